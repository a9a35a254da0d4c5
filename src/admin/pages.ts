// Server-rendered pages of the auth foundation: log-in, the console shell, "forbidden". No scripts,
// no external assets; the stylesheet is served by the plugin from /admin/assets/auth.css.
import type { FastifyReply } from 'fastify';

export const CSS_PATH = '/admin/assets/auth.css';

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Headers for every admin HTML page: no framing, no inline script, not cached, no referrer leaks. */
export function sendPage(reply: FastifyReply, status: number, html: string, csp = PAGE_CSP): FastifyReply {
  return reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .header('content-security-policy', csp)
    .send(html);
}

function layout(title: string, body: string, bodyClass = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)} | seler administration</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${CSS_PATH}">
</head>
<body class="${bodyClass}">
${body}
</body>
</html>
`;
}

export interface LoginPageOptions {
  csrfToken: string;
  next: string;
  username?: string;
  error?: string;
}

export function loginPage(o: LoginPageOptions): string {
  const error = o.error ? `<p class="error" role="alert">${escapeHtml(o.error)}</p>` : '';
  return layout(
    'Log in',
    `<main class="login">
  <h1>seler administration</h1>
  ${error}
  <form method="post" action="/admin/login" novalidate>
    <input type="hidden" name="_csrf" value="${escapeHtml(o.csrfToken)}">
    <input type="hidden" name="next" value="${escapeHtml(o.next)}">
    <label for="id_username">Username</label>
    <input type="text" name="username" id="id_username" value="${escapeHtml(o.username ?? '')}" autocomplete="username" autocapitalize="none" maxlength="150" required autofocus>
    <label for="id_password">Password</label>
    <input type="password" name="password" id="id_password" autocomplete="current-password" required>
    <button type="submit">Log in</button>
  </form>
</main>`,
    'login-page',
  );
}

export function logoutForm(csrfToken: string): string {
  return `<form method="post" action="/admin/logout" class="logout">
      <input type="hidden" name="_csrf" value="${escapeHtml(csrfToken)}">
      <button type="submit">Log out</button>
    </form>`;
}

export function header(user: { username: string; isSuperuser: boolean }, csrfToken: string): string {
  return `<header class="bar">
  <a class="brand" href="/admin/">seler administration</a>
  <div class="who">Signed in as <strong>${escapeHtml(user.username)}</strong>${user.isSuperuser ? ' (superuser)' : ''}
    ${logoutForm(csrfToken)}
  </div>
</header>`;
}

export function shellPage(user: { username: string; isSuperuser: boolean }, csrfToken: string, content = ''): string {
  return layout(
    'Site administration',
    `${header(user, csrfToken)}
<main class="content">
  <h1>Site administration</h1>
  ${content || '<p>Welcome. The console’s pages will appear here.</p>'}
</main>`,
  );
}

export function forbiddenPage(message: string): string {
  return layout('Forbidden', `<main class="content"><h1>403 Forbidden</h1><p>${escapeHtml(message)}</p><p><a href="/admin/">Back to the administration</a></p></main>`);
}

export const AUTH_CSS = `:root{--fg:#1d232a;--muted:#5b6670;--line:#d5dbe1;--bg:#f5f7f9;--accent:#205e8a;--accent-fg:#fff;--error:#a4161a;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
*{box-sizing:border-box}body{margin:0;line-height:1.45}
a{color:var(--accent)}h1{font-size:1.4rem;margin:0 0 1rem}
.bar{display:flex;justify-content:space-between;align-items:center;gap:1rem;padding:.6rem 1.2rem;background:var(--accent);color:var(--accent-fg)}
.bar a.brand{color:var(--accent-fg);font-weight:600;text-decoration:none}
.who{display:flex;align-items:center;gap:.8rem}.who form{margin:0}
.logout button{background:transparent;color:var(--accent-fg);border:1px solid rgba(255,255,255,.6);border-radius:4px;padding:.25rem .7rem;cursor:pointer}
.content{max-width:70rem;margin:1.5rem auto;padding:0 1.2rem}
.login{max-width:22rem;margin:12vh auto;padding:1.6rem;background:#fff;border:1px solid var(--line);border-radius:8px;box-shadow:0 2px 10px rgba(0,0,0,.05)}
.login h1{text-align:center;color:var(--accent)}
.login form{display:flex;flex-direction:column;gap:.35rem}
.login label{font-size:.9rem;color:var(--muted);margin-top:.5rem}
.login input[type=text],.login input[type=password]{font:inherit;padding:.5rem .6rem;border:1px solid var(--line);border-radius:4px}
.login input:focus{outline:2px solid var(--accent);outline-offset:1px}
.login button{margin-top:1rem;font:inherit;padding:.55rem;border:0;border-radius:4px;background:var(--accent);color:var(--accent-fg);cursor:pointer}
.error{color:var(--error);background:#fdecec;border:1px solid #f5c2c3;border-radius:4px;padding:.5rem .7rem;font-size:.92rem}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ec;--muted:#a3adb6;--line:#3a434c;--bg:#161a1e;--accent:#4d94c7}
.login{background:#1f252b}.login input{background:#161a1e;color:var(--fg)}.error{background:#3a1d1e;border-color:#6b2a2c;color:#f3b6b8}}
`;
