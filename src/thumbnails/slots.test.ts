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

  it('keeps weights within the budget (one caller alone always gets in), first come first served', async () => {
    const slots = new Slots(4, 100);
    const gates = Array.from({ length: 6 }, gate);
    const weights = [60, 30, 50, 150, 10, 10];
    let inside = 0;
    let weightInside = 0;
    const seen: { count: number; weight: number }[] = [];
    const entered: number[] = [];
    const runs = gates.map((g, i) =>
      slots.run(async () => {
        entered.push(i);
        inside++;
        weightInside += weights[i]!;
        seen.push({ count: inside, weight: weightInside });
        await g.opened;
        inside--;
        weightInside -= weights[i]!;
      }, weights[i]),
    );
    const settle = () => new Promise((r) => setImmediate(r));
    await settle();
    expect(entered).toEqual([0, 1]); // 60 + 30; 50 would make 140, and the light ones behind it wait their turn
    gates[0]!.open();
    await settle();
    expect(entered).toEqual([0, 1, 2]); // 30 + 50
    gates[1]!.open();
    gates[2]!.open();
    await settle();
    expect(entered).toEqual([0, 1, 2, 3]); // 150 alone: over the budget, but alone
    gates[3]!.open();
    await settle();
    expect(entered).toEqual([0, 1, 2, 3, 4, 5]);
    gates[4]!.open();
    gates[5]!.open();
    await Promise.all(runs);
    for (const s of seen) expect(s.count === 1 || s.weight <= 100, JSON.stringify(s)).toBe(true);
    expect(slots.heaviest).toBe(150);
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
    for (const bad of [0, -5, Number.NaN]) expect(() => new Slots(2, bad)).toThrow(RangeError);
  });
});
