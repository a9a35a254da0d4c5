// Builds seler (the server's TypeScript, the web pages' TypeScript check, the Vite bundle), saying what it does
// and how long it takes. `npm install`, `npm pack` and `npm publish` run it (prepare), `npm start` and `npm test`
// run it again, and it only builds when a source file is newer than the last build. `--force` (npm run build)
// always builds.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyLuaScripts } from './copy-lua.mjs';
import { pruneCompiled } from './prune-compiled.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const stamp = path.join(root, 'dist', '.build-stamp');
const inputs = ['src', 'web', 'package.json', 'package-lock.json', 'tsconfig.json', 'vite.config.ts'];
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const steps = [
  { label: 'server (tsc)', command: bin('tsc'), args: ['-p', 'tsconfig.json'] },
  { label: 'compiled files of removed modules (prune)', run: () => pruneCompiled(root) },
  { label: 'Lua scripts (copy)', run: () => copyLuaScripts(root) },
  { label: 'web pages, type check (tsc)', command: bin('tsc'), args: ['-p', 'web/tsconfig.json'] },
  { label: 'web pages, bundle (vite)', command: bin('vite'), args: ['build', '--logLevel', 'warn'] },
];

function newest(p) {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const entry of readdirSync(p)) if (entry !== 'node_modules') max = Math.max(max, newest(path.join(p, entry)));
  return max;
}

function lastBuild() {
  if (!existsSync(stamp)) return undefined;
  try {
    return { at: statSync(stamp).mtimeMs, seconds: JSON.parse(readFileSync(stamp, 'utf8')).seconds };
  } catch {
    return { at: statSync(stamp).mtimeMs, seconds: undefined }; // a stamp from an older version: a date only
  }
}

const force = process.argv.includes('--force');
const previous = lastBuild();
if (!force && previous && Math.max(...inputs.map((i) => newest(path.join(root, i)))) <= previous.at) process.exit(0);

if (!existsSync(bin('tsc')) || !existsSync(bin('vite'))) {
  // An install without the dev dependencies (npm install --omit=dev) cannot build; a published package ships dist/.
  process.stderr.write(
    existsSync(path.join(root, 'dist', 'main.js'))
      ? 'seler: the build tools (devDependencies) are not installed, so the existing build in dist/ is used.\n'
      : 'seler: cannot build: the build tools are not installed; run "npm install" (with the devDependencies) in ' + root + '.\n',
  );
  process.exit(existsSync(path.join(root, 'dist', 'main.js')) ? 0 : 1);
}

const out = process.stderr;
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
const expected = previous?.seconds ? `the last build took ${Math.round(previous.seconds)} s` : 'usually 20–60 s, longer on a busy machine';
out.write(`Building seler (${previous ? 'sources changed' : 'first build'}; ${expected})\n`);
const started = Date.now();
for (const [i, step] of steps.entries()) {
  out.write(`  ${i + 1}/${steps.length} ${step.label} … `);
  const t = Date.now();
  // Output is kept and shown only when a step fails: a good build is a few lines.
  const run = step.run ? step.run() : spawnSync(step.command, step.args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (run.status !== 0) {
    out.write(`failed after ${secs(Date.now() - t)}\n${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? `${run.error.message}\n` : ''}`);
    out.write(`seler: the build failed at "${step.label}"; the output is above.\n`);
    process.exit(1);
  }
  out.write(`${secs(Date.now() - t)}\n`);
}
const seconds = (Date.now() - started) / 1000;
mkdirSync(path.dirname(stamp), { recursive: true });
writeFileSync(stamp, JSON.stringify({ builtAt: new Date().toISOString(), seconds }));
out.write(`Built in ${secs(seconds * 1000)}.\n`);
