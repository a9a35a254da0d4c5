#!/usr/bin/env node
// The `seler` command runs the build in dist/ (made by `npm install`, `npm run build`, `npm start`).
import { existsSync } from 'node:fs';

// Node 20.19 / 22.12 load the ES-module-only packages some dependencies require() (cookie, content-disposition),
// and Vite 8 needs them too; older versions fail deep inside an import, so say it first.
const [major, minor] = process.versions.node.split('.').map(Number);
if (!((major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major >= 23)) {
  process.stderr.write(`seler: seler needs Node.js 20.19 or newer (22.12 or newer on the 22 line); this is ${process.versions.node}.\n`);
  process.exit(1);
}

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  const root = decodeURIComponent(new URL('..', import.meta.url).pathname);
  process.stderr.write(`seler: seler is not built yet: run "npm run build" in ${root} (npm install and npm start do it too).\n`);
  process.exit(1);
}
await import(main.href);
