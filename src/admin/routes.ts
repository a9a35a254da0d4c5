// The admin's own routes: the log-in and log-out pages (and the placeholder console page), and the JSON
// API of users, groups, tokens, permissions and the history. Registered after registerAdminAuth.
import type { FastifyInstance } from 'fastify';
import { registerAdminApi } from './api.js';
import type { AdminAuth } from './auth-plugin.js';
import { registerLoginRoutes } from './login-routes.js';

export interface AdminRouteOptions {
  /** Register GET /admin/ (the placeholder console page); false when the built console serves it. */
  shellPage?: boolean;
}

export function registerAdminRoutes(app: FastifyInstance, auth: AdminAuth, options: AdminRouteOptions = {}): void {
  registerLoginRoutes(app, auth, { shellPage: options.shellPage ?? true });
  registerAdminApi(app, auth);
}
