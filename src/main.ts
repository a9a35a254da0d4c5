// Process entry (bin/seler.js runs the compiled form of this file). A worker on glibc relaunches
// itself once with MALLOC_ARENA_MAX set (platform/allocator.ts) before anything else is loaded.
import { relaunchWithArenaMax, wantsAllocatorRelaunch } from './platform/allocator.js';

if (wantsAllocatorRelaunch(process.argv)) {
  process.exitCode = await relaunchWithArenaMax(process.argv);
} else {
  const { main } = await import('./cli.js');
  await main(process.argv);
}
