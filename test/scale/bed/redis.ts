// Redis for the bed: one server on a host, or a Sentinel group or Cluster (test/helpers/redis-topologies.ts)
// with every server in one host's namespace.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { redisCli, startRedisProcess, startRedisCluster, startSentinelGroup, type RedisClusterBed, type RedisProcess, type SentinelGroup } from '../../helpers/redis-topologies.js';
import type { Host, HostProcess } from './host.js';

export const inNamespace = (host: Host) => ['ip', 'netns', 'exec', host.ns];

export async function startSingleRedis(host: Host, lines: string[] = []): Promise<RedisProcess & { url: string }> {
  const server = await startRedisProcess(path.join(host.dir, 'redis'), host.address, ['maxmemory-policy noeviction', ...lines], { wrap: inNamespace(host), port: 6379 });
  return Object.assign(server, { url: `redis://${host.address}:6379` });
}

export function startBedSentinel(host: Host, options: { serverConfig?: string[] } = {}): Promise<SentinelGroup> {
  return startSentinelGroup({ host: host.address, dir: path.join(host.dir, 'sentinel'), wrap: inNamespace(host), portFrom: 6379, ...options });
}

export function startBedCluster(host: Host, options: { serverConfig?: string[] } = {}): Promise<RedisClusterBed> {
  return startRedisCluster({ host: host.address, dir: path.join(host.dir, 'cluster'), wrap: inNamespace(host), portFrom: 7000, ...options });
}

/** Starts a server again from its own directory (a crashed host coming back): same config, same data. */
export async function restartRedis(host: Host, server: RedisProcess, name: string): Promise<HostProcess> {
  const proc = host.spawn(name, ['redis-server', path.join(server.dir, 'redis.conf')]);
  const deadline = Date.now() + 20_000;
  while ((await redisCli(server, 'PING').catch(() => '')) !== 'PONG') {
    if (!proc.alive || Date.now() > deadline) throw new Error(`redis-server in ${server.dir} did not come back:\n${proc.tail()}`);
    await sleep(100);
  }
  return proc;
}
