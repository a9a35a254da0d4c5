// The bed itself: hosts reach each other, the bed's /24 is nowhere in this machine's own namespace,
// a cut link and an nftables drop stop exactly the traffic they should, and teardown leaves no
// namespace and no process behind.
import { afterAll, describe, expect, it } from 'vitest';
import { Bed, SUBNET, startSingleRedis, type Host } from './bed/index.js';
import { ip } from './bed/sh.js';

let bed: Bed | undefined;
afterAll(async () => bed?.teardown());

/** PING from `from` to the Redis on `to`, with a 2 s limit: 'PONG', or what went wrong. */
async function ping(from: Host, to: Host): Promise<string> {
  const r = await from.exec(['timeout', '2', 'redis-cli', '-h', to.address, '-p', '6379', 'PING'], { timeoutMs: 10_000 });
  return r.stdout.trim() || r.stderr.trim() || `exit ${r.code}`;
}

describe('the scale bed', () => {
  it('connects its hosts, isolates them from this machine, cuts and drops on demand, and leaves nothing behind', async () => {
    bed = await Bed.create('self');
    const [a, b, c] = [await bed.addHost('a'), await bed.addHost('b'), await bed.addHost('c')];
    const redis = await startSingleRedis(b);
    expect(await ping(a, b)).toBe('PONG');
    expect(await ping(c, b)).toBe('PONG');

    // This machine's own namespace has no address in the bed's /24 and no bed interface (checked
    // without sending anything: a packet for 10.77.0.x from here would leave by the default route).
    expect(await ip(['-o', 'addr'])).not.toContain(`${SUBNET}.`);
    expect(await ip(['-o', 'link'])).not.toMatch(/\bbr0\b|\bv\d+@/);
    expect(await b.sh(['ip', 'route'])).not.toContain('default');

    await a.dropTraffic(b);
    expect(await ping(a, b)).not.toBe('PONG');
    expect(await ping(c, b)).toBe('PONG');
    await a.allowTraffic(b);
    expect(await ping(a, b)).toBe('PONG');

    await b.cut();
    expect(await ping(a, b)).not.toBe('PONG');
    expect(await ping(c, b)).not.toBe('PONG');
    await b.restore();
    expect(await ping(a, b)).toBe('PONG');

    const pid = redis.process.pid!;
    const namespaces = [a.ns, b.ns, c.ns, bed.hub];
    await bed.teardown();
    const left = await ip(['netns', 'list']);
    for (const ns of namespaces) expect(left).not.toContain(ns);
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
