// docs/errors.md lists every code of every feature's error catalogue, with its status.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADMIN_ERRORS } from '../src/admin/errors.js';
import { BEAT_ERRORS } from '../src/beat/errors.js';
import { MONITORING_ERRORS } from '../src/monitoring/errors.js';
import { packageRoot } from '../src/package-info.js';
import type { ErrorSpec } from '../src/platform/errors.js';
import { PLATFORM_ERRORS } from '../src/platform/platform-errors.js';
import { TASK_ERRORS } from '../src/tasks/errors.js';
import { THUMBNAIL_ERRORS } from '../src/thumbnails/errors.js';

const CATALOGUES: Record<string, Record<string, Pick<ErrorSpec, 'status'>>> = { admin: ADMIN_ERRORS, beat: BEAT_ERRORS, monitoring: MONITORING_ERRORS, platform: PLATFORM_ERRORS, tasks: TASK_ERRORS, thumbnails: THUMBNAIL_ERRORS };

/** The `| \`code\` | status |` rows of the section `## <feature>`. */
function documented(feature: string): Record<string, number> {
  const text = readFileSync(path.join(packageRoot, 'docs', 'errors.md'), 'utf8');
  const section = text.split(/^## /m).find((s) => s.startsWith(`${feature} `) || s.startsWith(`${feature}\n`));
  if (!section) return {};
  return Object.fromEntries([...section.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])]));
}

describe('docs/errors.md', () => {
  it.each(Object.keys(CATALOGUES))('lists every code of the %s catalogue with its status, and no other', (feature) => {
    const declared = Object.fromEntries(Object.entries(CATALOGUES[feature]!).map(([code, spec]) => [code, spec.status]));
    expect(documented(feature)).toEqual(declared);
  });
});
