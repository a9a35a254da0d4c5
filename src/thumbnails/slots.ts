// A counting semaphore with an optional budget: at most `limit` callers inside `run` at once, and their
// weights together within `budget` (a caller alone always gets in, however heavy). Callers get in in
// the order they came, with one exception that keeps the cores busy: a weightless caller may pass
// callers that wait only for budget room (a streaming decode beside one that holds a whole image).
// It never passes one heavier than the whole budget, which needs everyone out, and the heavy one it
// passed is first in line for the next slot freed, so nobody waits for ever.

import { availableParallelism } from 'node:os';
import { DEFAULT_DECODE_MEMORY_BYTES } from './options.js';

export class Slots {
  private active = 0;
  private used = 0;
  private readonly waiting: { weight: number; enter: () => void }[] = [];
  /** The most ever inside `run` at once, and the most weight (tests pin the bounds with them). */
  highest = 0;
  heaviest = 0;

  constructor(
    readonly limit: number,
    readonly budget = Infinity,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a slot limit is a whole number ≥ 1, not ${limit}`);
    if (!(budget > 0)) throw new RangeError(`a slot budget is a number > 0, not ${budget}`);
  }

  get inUse(): number {
    return this.active;
  }

  async run<T>(work: () => Promise<T>, weight = 0): Promise<T> {
    if (this.waiting.length === 0 && this.fits(weight)) this.enter(weight);
    else {
      const entered = new Promise<void>((enter) => this.waiting.push({ weight, enter }));
      this.admit();
      await entered;
    }
    try {
      return await work();
    } finally {
      this.active--;
      this.used -= weight;
      this.admit();
    }
  }

  private fits(weight: number): boolean {
    return this.active === 0 || (this.active < this.limit && this.used + weight <= this.budget);
  }

  private enter(weight: number): void {
    this.active++;
    this.used += weight;
    this.highest = Math.max(this.highest, this.active);
    this.heaviest = Math.max(this.heaviest, this.used);
  }

  private admit(): void {
    let passing = false;
    for (let i = 0; i < this.waiting.length && this.active < this.limit; ) {
      const next = this.waiting[i]!;
      if ((!passing || next.weight === 0) && this.fits(next.weight)) {
        this.waiting.splice(i, 1);
        this.enter(next.weight);
        next.enter();
      } else if (next.weight > this.budget) {
        return;
      } else {
        passing = true;
        i++;
      }
    }
  }
}

/**
 * Originals decoded at once in a process, whatever the worker's concurrency: one per core, and those
 * that hold the whole image (a progressive JPEG keeps all its DCT coefficients: ~90 MB for a
 * 15-megapixel photo) within `budgetBytes` together (SELER_DECODE_MEMORY_MB). Decodes are where a
 * worker's memory goes, and more of them than cores buy no speed. Tasks beyond the bounds wait; one
 * decode alone always runs. A worker makes one for all its thumbnail tasks (ctx.resources).
 */
export function newDecodeSlots(budgetBytes = DEFAULT_DECODE_MEMORY_BYTES): Slots {
  return new Slots(availableParallelism(), budgetBytes);
}
