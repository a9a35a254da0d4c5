// The redis-server processes of a data directory, found by their command line (not the small shell
// that watches one, whose command line names the directory too).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export function redisServerPids(dataDir: string): number[] {
  let out: string;
  try {
    out = execFileSync('pgrep', ['-af', 'redis-server'], { encoding: 'utf8' });
  } catch {
    return [];
  }
  return out
    .split('\n')
    .filter((line) => line.includes(dataDir) && !line.split(' ')[1]?.endsWith('sh'))
    .map((line) => Number(line.split(' ')[0]));
}

/** The process group of a process (field 5 of /proc/<pid>/stat). */
export function processGroup(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
