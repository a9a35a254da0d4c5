// A counting semaphore: at most `limit` callers inside `run` at once, the rest wait in order.

export class Slots {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** The most ever inside `run` at once (tests pin the bound with it). */
  highest = 0;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a slot limit is a whole number ≥ 1, not ${limit}`);
  }

  get inUse(): number {
    return this.active;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    this.highest = Math.max(this.highest, this.active);
    try {
      return await work();
    } finally {
      // The slot passes straight to the next waiter, so a newcomer cannot overtake it.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
