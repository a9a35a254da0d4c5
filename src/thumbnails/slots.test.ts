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

  it('lets weightless callers pass one waiting for budget room, never one that needs everyone out, and the passed one gets the next slot', async () => {
    const slots = new Slots(2, 100);
    const weights = [80, 60, 0, 0, 0, 150, 0];
    const gates = weights.map(gate);
    const entered: number[] = [];
    const runs = weights.map((w, i) =>
      slots.run(async () => {
        entered.push(i);
        await gates[i]!.opened;
      }, w),
    );
    const settle = () => new Promise((r) => setImmediate(r));
    await settle();
    expect(entered).toEqual([0, 2]); // 60 waits for room in the budget; the weightless 2 takes the idle slot
    gates[2]!.open();
    await settle();
    expect(entered).toEqual([0, 2, 3]);
    gates[0]!.open();
    await settle();
    expect(entered).toEqual([0, 2, 3, 1]); // 80 out: the passed 60 is first for the slot it freed
    gates[3]!.open();
    await settle();
    expect(entered).toEqual([0, 2, 3, 1, 4]);
    gates[1]!.open();
    gates[4]!.open();
    await settle();
    expect(entered).toEqual([0, 2, 3, 1, 4, 5]); // 150 alone; the weightless 6 behind it does not pass it
    expect(slots.inUse).toBe(1);
    gates[5]!.open();
    await settle();
    expect(entered).toEqual([0, 2, 3, 1, 4, 5, 6]);
    gates[6]!.open();
    await Promise.all(runs);
    expect(slots.highest).toBe(2);
    expect(slots.heaviest).toBe(150);
    expect(slots.inUse).toBe(0);
  });

  it('a weightless caller that arrives while a heavy one waits for room goes in beside the one inside', async () => {
    const slots = new Slots(2, 100);
    const first = gate();
    const inside = slots.run(() => first.opened, 70);
    const heavy = slots.run(async () => 'heavy', 70);
    let lightRan = false;
    await slots.run(async () => {
      lightRan = true;
    });
    expect(lightRan).toBe(true);
    expect(slots.inUse).toBe(1); // the first still holds its slot; the heavy one still waits
    first.open();
    await expect(heavy).resolves.toBe('heavy');
    await inside;
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
