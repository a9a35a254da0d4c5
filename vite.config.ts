import { defineConfig } from 'vite';

// The browser front end lives in web/ and is served by the web role from dist/web (no CDN).
export default defineConfig({
  root: 'web',
  base: '/',
  build: { outDir: '../dist/web', emptyOutDir: true, sourcemap: true },
  server: { proxy: { '/api': 'http://127.0.0.1:8000', '/task': 'http://127.0.0.1:8000' } },
});
