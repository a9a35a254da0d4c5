import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const page = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// The browser front ends live in web/ and are served by the web role from dist/web (no CDN):
// the Thumbnailer at / and the admin console at /admin/ (its HTML is sent by the server after a
// session check; its scripts and styles are ordinary files under /assets/).
export default defineConfig({
  root: 'web',
  base: '/',
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    // No source maps in the build: they would publish the console's sources (and the server refuses
    // *.map anyway). Debug with `vite` (the dev server has them).
    sourcemap: false,
    rollupOptions: { input: { main: page('web/index.html'), admin: page('web/admin/index.html') } },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8000', '/task': 'http://127.0.0.1:8000', '/admin': 'http://127.0.0.1:8000' } },
});
