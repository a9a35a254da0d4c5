// A PostgreSQL cluster of the bed's own (initdb, then the postgres server started by pid in a host's
// namespace, listening only on that host's address): the machine's own PostgreSQL is never touched.
import { chownSync, mkdirSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Host, HostProcess } from './host.js';
import { run } from './sh.js';

export interface BedPostgres {
  url: string;
  process: HostProcess;
  /** Runs SQL with psql on the database host; returns its unaligned output. */
  query(sql: string): Promise<string>;
}

async function pgBin(name: string): Promise<string> {
  const r = await run(['sh', '-c', `ls -d /usr/lib/postgresql/*/bin/${name} 2>/dev/null | sort -V | tail -1`]);
  const found = r.stdout.trim();
  if (found) return found;
  const onPath = await run(['sh', '-c', `command -v ${name}`]);
  if (onPath.code === 0) return onPath.stdout.trim();
  throw new Error(`the scale bed needs PostgreSQL's ${name} (Debian: apt-get install postgresql)`);
}

export async function startPostgres(host: Host, options: { port?: number; database?: string } = {}): Promise<BedPostgres> {
  const port = options.port ?? 5432;
  const database = options.database ?? 'seler';
  const dataDir = path.join(host.dir, 'pgdata');
  const socketDir = path.join(host.dir, 'pgsock');
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(socketDir, { recursive: true });
  // initdb and postgres refuse to run as root: the data belongs to the postgres user.
  const uid = Number((await run(['id', '-u', 'postgres'])).stdout.trim());
  const gid = Number((await run(['id', '-g', 'postgres'])).stdout.trim());
  if (!Number.isInteger(uid)) throw new Error('the scale bed needs a "postgres" user (Debian: apt-get install postgresql)');
  for (const d of [host.dir, dataDir, socketDir]) chownSync(d, uid, gid);
  const initdb = await pgBin('initdb');
  const init = await run(['runuser', '-u', 'postgres', '--', initdb, '-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'], { timeoutMs: 120_000 });
  if (init.code !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  appendFileSync(path.join(dataDir, 'pg_hba.conf'), `host all all ${host.address.replace(/\.\d+$/, '.0')}/24 trust\n`);
  writeFileSync(
    path.join(dataDir, 'postgresql.auto.conf'),
    [`listen_addresses = '${host.address}'`, `port = ${port}`, `unix_socket_directories = '${socketDir}'`, 'fsync = off', 'max_connections = 200', 'shared_buffers = 32MB'].join('\n') + '\n',
  );
  const postgres = await pgBin('postgres');
  // setpriv execs (runuser would stay in between as the parent), so the pid is the server's.
  const proc = host.spawn('postgres', ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--init-groups', postgres, '-D', dataDir]);
  const psql = (sql: string, db = 'postgres') => host.exec(['psql', '-h', host.address, '-p', String(port), '-U', 'postgres', '-d', db, '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await psql('select 1');
    if (r.code === 0) break;
    if (!proc.alive || Date.now() > deadline) throw new Error(`PostgreSQL on ${host} did not start: ${r.stderr}\n${proc.tail()}`);
    await sleep(300);
  }
  const created = await psql(`create database ${database}`);
  if (created.code !== 0) throw new Error(`create database: ${created.stderr}`);
  return {
    url: `postgres://postgres@${host.address}:${port}/${database}`,
    process: proc,
    async query(sql) {
      const r = await psql(sql, database);
      if (r.code !== 0) throw new Error(`psql: ${r.stderr}`);
      return r.stdout.trim();
    },
  };
}
