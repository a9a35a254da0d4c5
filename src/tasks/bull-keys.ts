// Where BullMQ keeps a queue's data: every key of queue `q` is `<prefix>:<q>:<suffix>` (the prefix is
// seler's `{prefix}`): the job hashes (suffix: the task id), the event stream (`events`), the sets.
export function bullKey(bullPrefix: string, queue: string, suffix: string): string {
  return `${bullPrefix}:${queue}:${suffix}`;
}
