// The queue of tasks an anonymous uploader owns (enqueued here or read once), so reading one again is one
// round trip. Only those: their id is all it takes to read them anyway, while a staff-only task must cost an
// anonymous caller as much as an unknown id (access.ts).

/** How many anonymous uploads' queues a client remembers (a few hundred KB at most). */
const PUBLIC_QUEUES_KEPT = 10_000;

export class PublicTaskQueues {
  private readonly queues = new Map<string, string>();

  get(id: string): string | undefined {
    return this.queues.get(id);
  }

  remember(id: string, queue: string): void {
    this.queues.delete(id);
    this.queues.set(id, queue);
    // Insertion order: the first key is the one least recently remembered.
    if (this.queues.size > PUBLIC_QUEUES_KEPT) this.queues.delete(this.queues.keys().next().value!);
  }

  forget(id: string): void {
    this.queues.delete(id);
  }
}
