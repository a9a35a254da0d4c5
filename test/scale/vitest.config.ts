// `npm run test:scale`: the multi-host bed (network namespaces, real processes, faults). Separate from
// `npm test`: it needs root, ip and nft, and takes minutes. Files run one at a time (each makes a bed
// and loads the machine's two cores on its own).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/scale/**/*.scale.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 240_000,
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
