// The static checks run with the tests: dependency-cruiser's import rules (.dependency-cruiser.cjs: no
// cycles, features only through their index.ts / contract.ts, platform/ imports no feature, the pages
// only contract modules) and ESLint (eslint.config.js). Each is also shown to catch what it is for.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../src/package-info.js';

/** A package's command as a script for this Node (no shell, no .bin link: the same on every platform). */
function bin(pkg: string, name: string): string {
  const dir = path.join(packageRoot, 'node_modules', pkg);
  const { bin: bins } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  return path.join(dir, bins[name]!);
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(script: string, args: string[], options: { cwd?: string; input?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [script, ...args], { cwd: options.cwd ?? packageRoot, maxBuffer: 64 * 1024 * 1024, timeout: 240_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      if (code === null) reject(new Error(`${path.basename(script)} did not run: ${err!.message}\n${stderr}`));
      else resolve({ code, stdout, stderr });
    });
    child.stdin!.end(options.input ?? '');
  });
}

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

async function depcruise(cwd: string, targets: string[]): Promise<Violation[]> {
  const result = await run(bin('dependency-cruiser', 'depcruise'), [...targets, '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], { cwd });
  let report: { summary: { violations: Violation[] } };
  try {
    report = JSON.parse(result.stdout) as typeof report;
  } catch {
    throw new Error(`depcruise gave no report (exit ${result.code}):\n${result.stderr}`);
  }
  return report.summary.violations;
}

const describeViolation = (v: Violation) => `${v.rule.name}: ${v.from} → ${v.to}`;

describe('static checks', () => {
  const sandboxes: string[] = [];
  afterAll(() => {
    for (const dir of sandboxes) rmSync(dir, { recursive: true, force: true });
  });

  it('the import rules hold for src, web, test, bench and scripts', async () => {
    const violations = await depcruise(packageRoot, ['src', 'web', 'test', 'bench', 'scripts']);
    expect(violations.map(describeViolation), 'dependency-cruiser found (see .dependency-cruiser.cjs for each rule)').toEqual([]);
  }, 240_000);

  it('the import rules catch a cycle, a reach into another feature, platform importing a feature and a page importing server code', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'seler-depcruise-'));
    sandboxes.push(dir);
    cpSync(path.join(packageRoot, '.dependency-cruiser.cjs'), path.join(dir, '.dependency-cruiser.cjs'));
    writeFileSync(path.join(dir, 'tsconfig.check.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }));
    const files: Record<string, string> = {
      'src/alpha/index.ts': "export { inner } from './inner.js';\n",
      'src/alpha/contract.ts': 'export type Shape = { a: number };\n',
      'src/alpha/inner.ts': 'export const inner = 1;\n',
      'src/beta/fine.ts': "import { inner } from '../alpha/index.js';\nimport type { Shape } from '../alpha/contract.js';\nimport { shared } from '../platform/shared.js';\nexport const fine: Shape = { a: inner + shared };\n",
      'src/beta/reach.ts': "import { inner } from '../alpha/inner.js';\nexport const reach = inner;\n",
      'src/beta/reach.test.ts': "import { inner } from '../alpha/inner.js';\nexport const tested = inner;\n",
      'src/beta/one.ts': "import { two } from './two.js';\nexport const one = () => two();\n",
      'src/beta/two.ts': "import { one } from './one.js';\nexport const two = (): number => (one ? 2 : 0);\n",
      'src/platform/shared.ts': 'export const shared = 1;\n',
      'src/platform/upward.ts': "import { inner } from '../alpha/index.js';\nexport const upward = inner;\n",
      'web/page.ts': "import type { Shape } from '../src/alpha/contract.js';\nimport { inner } from '../src/alpha/index.js';\nexport const page: Shape = { a: inner };\n",
    };
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      writeFileSync(path.join(dir, name), text);
    }
    const found = await depcruise(dir, ['src', 'web']);
    // A cycle is reported once, from whichever of its modules the cruise met first.
    const cycles = found.filter((v) => v.rule.name === 'no-circular');
    expect(cycles.map((v) => [v.from, v.to].sort().join(' ↔ '))).toEqual(['src/beta/one.ts ↔ src/beta/two.ts']);
    expect(found.filter((v) => v.rule.name !== 'no-circular').map(describeViolation).sort()).toEqual([
      'browser-imports-only-contracts: web/page.ts → src/alpha/index.ts',
      'feature-through-its-entry: src/beta/reach.ts → src/alpha/inner.ts',
      'platform-imports-no-feature: src/platform/upward.ts → src/alpha/index.ts',
    ]);
  }, 240_000);

  it('ESLint finds nothing', async () => {
    const result = await run(bin('eslint', 'eslint'), ['--max-warnings', '0', '.']);
    expect(result.stdout + result.stderr, 'ESLint found (eslint.config.js)').toBe('');
    expect(result.code).toBe(0);
  }, 240_000);

  it('ESLint applies the project config: an `any` and an unused import are reported', async () => {
    const source = "import { readFileSync } from 'node:fs';\nexport const loose: any = 1;\n";
    const result = await run(bin('eslint', 'eslint'), ['--stdin', '--stdin-filename', 'src/lint-probe.ts', '--format', 'json'], { input: source });
    const [report] = JSON.parse(result.stdout) as { messages: { ruleId: string }[] }[];
    expect(report!.messages.map((m) => m.ruleId).sort()).toEqual(['@typescript-eslint/no-explicit-any', '@typescript-eslint/no-unused-vars']);
    expect(result.code).toBe(1);
  }, 240_000);
});
