import { describe, expect, it } from 'vitest';
import { Slots } from './slots.js';

/** A task that stays inside its slot until released from outside. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('Slots', () => {
  it('never lets more than its limit in at once, and every caller gets in eventually, in order', async () => {
    const slots = new Slots(3);
    let inside = 0;
    let most = 0;
    const entered: number[] = [];
    const gates = Array.from({ length: 10 }, gate);
    const runs = gates.map((g, i) =>
      slots.run(async () => {
        entered.push(i);
        most = Math.max(most, ++inside);
        await g.opened;
        inside--;
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(entered).toEqual([0, 1, 2]);
    expect(slots.inUse).toBe(3);
    // Release in a scrambled order; each release admits exactly one waiter.
    for (const i of [1, 0, 2, 5, 3, 4, 9, 6, 7, 8]) {
      gates[i]!.open();
      await new Promise((r) => setImmediate(r));
    }
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(entered).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(most).toBe(3);
    expect(slots.highest).toBe(3);
    expect(slots.inUse).toBe(0);
  });

  it('a failing caller gives its slot back', async () => {
    const slots = new Slots(1);
    await expect(slots.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(slots.run(async () => 'next')).resolves.toBe('next');
    expect(slots.inUse).toBe(0);
  });

  it('refuses a limit that is not a whole number ≥ 1', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new Slots(bad)).toThrow(RangeError);
  });
});
