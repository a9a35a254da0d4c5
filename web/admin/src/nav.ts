// What a page folder contributes: its routes and its entries in the side navigation and on the
// console's home page (Django's app list). Entries without the permission are hidden.
import type { Route } from './router.js';

export interface NavItem {
  label: string;
  href: string;
  /** Needed to see the entry (any of them when several). */
  permission?: string | string[];
  /** An "Add" link shown on the home page, with the permission it needs. */
  add?: { href: string; permission: string };
  testId?: string;
}

export interface NavGroup {
  title: string;
  items: NavItem[];
}

export interface Section {
  routes: Route[];
  nav: NavGroup[];
}
