// Users, groups, API tokens and the change history (Django's auth and admin log).
import type { Section } from '../../nav.js';

export const authSection: Section = {
  routes: [],
  nav: [],
};
