// The monitor: workers, queues, tasks, charts (Flower and Bull Board).
import type { Section } from '../../nav.js';

export const monitorSection: Section = {
  routes: [],
  nav: [],
};
