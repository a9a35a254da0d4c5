import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { LocalObjectStore } from './platform/storage/index.js';
import { loadTasks } from './task-modules.js';

const dir = mkdtempSync(path.join(tmpdir(), 'seler-task-modules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadTasks: what a worker hands the thumbnail tasks', () => {
  it.each([
    [{}, 100 * 1024 * 1024],
    [{ SELER_DECODE_MEMORY_MB: '250' }, 250 * 1024 * 1024],
  ])('decode slots from the configuration (%o): one per core, the configured memory for whole-image decodes', async (env, budget) => {
    const config = loadConfig({ SELER_DATA_DIR: dir, ...env }, dir);
    const resources = await loadTasks(config, new LocalObjectStore(path.join(dir, 'media')));
    expect(resources.thumbnails!.decodes.budget).toBe(budget);
    expect(resources.thumbnails!.decodes.limit).toBe(availableParallelism());
  });

  it('each worker runtime gets its own slots (no process-wide state shared between runtimes)', async () => {
    const config = loadConfig({ SELER_DATA_DIR: dir }, dir);
    const store = new LocalObjectStore(path.join(dir, 'media'));
    const [a, b] = await Promise.all([loadTasks(config, store), loadTasks(config, store)]);
    expect(a.thumbnails!.decodes).not.toBe(b.thumbnails!.decodes);
  });

  it('a client that only queues tasks gets no resources', async () => {
    expect(await loadTasks(loadConfig({ SELER_DATA_DIR: dir }, dir))).toEqual({});
  });
});
