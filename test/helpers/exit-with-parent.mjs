// `node --import ./test/helpers/exit-with-parent.mjs …` (test/helpers/cli.ts adds it): a `seler` command a
// test started stops when that test process dies, even by SIGKILL, instead of running on as an orphan with
// its private redis-server. Only the process the test started watches (a process it starts in turn has
// another parent); it stops its whole process group: SIGTERM (a clean shutdown), then SIGKILL.
import { clearInterval, setInterval, setTimeout } from 'node:timers';

const owner = Number(process.env.SELER_TEST_PARENT_PID);
const POLL_MS = 500;
const GRACE_MS = 5_000;

if (owner > 0 && process.ppid === owner) {
  const watch = setInterval(() => {
    if (process.ppid === owner) return;
    clearInterval(watch);
    const signalGroup = (signal) => {
      try {
        process.kill(-process.pid, signal);
      } catch {
        process.kill(process.pid, signal);
      }
    };
    signalGroup('SIGTERM');
    setTimeout(() => signalGroup('SIGKILL'), GRACE_MS).unref();
  }, POLL_MS);
  watch.unref();
}
