// Client-side routing over /admin/… with the History API. A route renders into the content outlet;
// its AbortSignal fires when the user navigates away (close live streams, drop stale fetches).

export interface RouteContext {
  params: Record<string, string>;
  query: URLSearchParams;
  outlet: HTMLElement;
  signal: AbortSignal;
  /** Sets the page heading, the document title and the breadcrumb trail (links before the last). */
  setTitle(title: string, trail?: { label: string; href: string }[]): void;
}

export interface Route {
  /** "/admin/periodic-tasks/:id/" (the trailing slash is optional when matching). */
  path: string;
  /** Without it the page is refused before rendering (the API refuses too; this avoids a flash). */
  permission?: string | string[];
  render(ctx: RouteContext): void | Promise<void>;
}

interface Compiled {
  route: Route;
  regex: RegExp;
  names: string[];
}

const compiled: Compiled[] = [];
let onRender: ((route: Route | undefined, params: Record<string, string>) => void) | undefined;

export function addRoutes(routes: Route[]): void {
  for (const route of routes) {
    const names: string[] = [];
    const pattern = route.path
      .replace(/\/$/, '')
      .split('/')
      .map((part) => {
        if (!part.startsWith(':')) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(part.slice(1));
        return '([^/]+)';
      })
      .join('/');
    compiled.push({ route, regex: new RegExp(`^${pattern}/?$`), names });
  }
}

export function match(pathname: string): { route: Route; params: Record<string, string> } | undefined {
  for (const c of compiled) {
    const m = c.regex.exec(pathname);
    if (!m) continue;
    const params: Record<string, string> = {};
    c.names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1]!)));
    return { route: c.route, params };
  }
  return undefined;
}

/** Called on every navigation with the matched route (undefined: not found). */
export function onNavigate(handler: (route: Route | undefined, params: Record<string, string>) => void): void {
  onRender = handler;
}

function render(): void {
  const found = match(location.pathname);
  onRender?.(found?.route, found?.params ?? {});
}

export function navigate(href: string, options: { replace?: boolean } = {}): void {
  const url = new URL(href, location.href);
  if (url.origin !== location.origin || !isConsolePath(url.pathname)) {
    location.assign(url.href);
    return;
  }
  if (options.replace) history.replaceState(null, '', url.pathname + url.search + url.hash);
  else history.pushState(null, '', url.pathname + url.search + url.hash);
  render();
  if (!options.replace) window.scrollTo(0, 0);
}

/** Changes the query string of the current page (filters, sort, page) and renders again. */
export function setQuery(changes: Record<string, string | number | null | undefined>, options: { replace?: boolean } = {}): void {
  const params = new URLSearchParams(location.search);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === undefined || value === '') params.delete(key);
    else params.set(key, String(value));
  }
  const qs = params.toString();
  navigate(location.pathname + (qs ? `?${qs}` : ''), options);
}

/** Pages served by the log-in routes, not by this application. */
function isConsolePath(pathname: string): boolean {
  return pathname.startsWith('/admin/') && !/^\/admin\/(login|logout|assets)\b/.test(pathname);
}

export function startRouter(): void {
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = (event.target as Element | null)?.closest?.('a');
    if (!link || link.target || link.hasAttribute('download')) return;
    const url = new URL(link.href, location.href);
    if (url.origin !== location.origin || !isConsolePath(url.pathname)) return;
    event.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
  window.addEventListener('popstate', render);
  render();
}
