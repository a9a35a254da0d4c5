// Periodic tasks and their schedules (django-celery-beat's admin).
import type { Section } from '../../nav.js';

export const beatSection: Section = {
  routes: [],
  nav: [],
};
