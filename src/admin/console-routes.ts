// The admin console (a single-page application built by Vite into dist/web/admin) served at /admin/
// and every path below it, to signed-in staff only: anyone else is sent to the log-in page. Its
// scripts and styles are files under /assets/, so the page runs under a CSP without inline code.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { adminGuard } from './auth-plugin.js';
import { sendPage } from './pages.js';

const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export function registerAdminConsole(app: FastifyInstance, options: { htmlFile: string }): void {
  const html = readFileSync(options.htmlFile, 'utf8');
  const guard = adminGuard({ page: true });
  const serve = { schema: { hide: true }, preHandler: guard };
  const send = async (_request: unknown, reply: Parameters<typeof sendPage>[0]) => sendPage(reply, 200, html, CONSOLE_CSP);
  app.get(
    '/admin/',
    {
      ...serve,
      config: { produces: { type: 'text/html', description: 'The console (a visitor who is not signed in is redirected to the log-in page)' } },
      schema: { tags: ['admin'], summary: 'The admin console (HTML; needs a signed-in staff user)' },
    },
    send,
  );
  app.get('/admin/*', serve, send);
  app.get('/admin', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/admin/', 301));
}
