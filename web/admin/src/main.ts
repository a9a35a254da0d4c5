// The admin console: a single-page application over the admin JSON API, served at /admin/ to
// signed-in staff (the server redirects anyone else to the log-in page).
import './admin.css';
import { loadMe } from './session.js';
import { mountFrame } from './layout.js';
import type { Section } from './nav.js';
import { homeRoute } from './pages/home.js';
import { authSection } from './pages/auth/index.js';
import { beatSection } from './pages/beat/index.js';
import { monitorSection } from './pages/monitor/index.js';
import { addRoutes, onNavigate, startRouter } from './router.js';
import { ApiError, loginUrl } from './api.js';

const sections: Section[] = [monitorSection, beatSection, authSection];

async function main(): Promise<void> {
  const root = document.getElementById('app')!;
  try {
    await loadMe();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return location.assign(loginUrl());
    root.textContent = `The administration could not start: ${(err as Error).message}`;
    return;
  }
  const groups = sections.flatMap((s) => s.nav);
  addRoutes([homeRoute(groups), ...sections.flatMap((s) => s.routes)]);
  const frame = mountFrame(root, groups);
  onNavigate((route, params) => frame.render(route, params));
  startRouter();
}

void main();
