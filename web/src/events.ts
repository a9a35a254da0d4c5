// Live task state over SSE (`event: task`, data = the task JSON), with a one-shot status check
// when the stream breaks. EventSource reconnects by itself (sending Last-Event-ID); we only
// reopen it when the browser has given up, a few times with backoff. Never a polling loop.
import { fetchTask, isTerminal, type Accepted, type Task } from './api';

export interface WatchHandlers {
  onTask: (task: Task) => void;
  /** 'live' once a message arrives, 'reconnecting' while the stream is down. */
  onConnection: (state: 'live' | 'reconnecting') => void;
  /** The stream could not be restored; the page offers a manual check. */
  onLost: (message: string) => void;
}

const MAX_REOPENS = 5;

export function watchTask(job: Accepted, handlers: WatchHandlers): () => void {
  let source: EventSource | null = null;
  let finished = false;
  let checkedSinceLastMessage = false;
  let reopens = 0;
  let reopenTimer: number | undefined;

  const stop = (): void => {
    finished = true;
    window.clearTimeout(reopenTimer);
    source?.close();
    source = null;
  };

  const deliver = (task: Task): void => {
    if (finished) return;
    handlers.onTask(task);
    if (isTerminal(task.status)) stop();
  };

  const onMessage = (e: MessageEvent<string>): void => {
    let task: Task;
    try {
      task = JSON.parse(e.data) as Task;
    } catch {
      return; // a comment or keep-alive we don't understand
    }
    if (!task || typeof task.status !== 'string') return;
    checkedSinceLastMessage = false;
    reopens = 0;
    handlers.onConnection('live');
    deliver(task);
  };

  const checkOnce = (): void => {
    if (checkedSinceLastMessage) return;
    checkedSinceLastMessage = true;
    fetchTask(job.statusUrl).then(deliver, () => {
      /* the stream's own reconnect (or the reopen below) will tell us more */
    });
  };

  const open = (): void => {
    source = new EventSource(job.eventsUrl);
    source.addEventListener('task', onMessage as EventListener);
    source.onmessage = onMessage; // tolerate unnamed events too
    source.onerror = () => {
      if (finished || !source) return;
      handlers.onConnection('reconnecting');
      checkOnce();
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        if (reopens >= MAX_REOPENS) {
          handlers.onLost('Lost the live connection to the server.');
          stop();
          return;
        }
        const delay = Math.min(30_000, 1000 * 2 ** reopens);
        reopens += 1;
        reopenTimer = window.setTimeout(() => {
          if (finished) return;
          checkedSinceLastMessage = false; // one status check per reopen, at most MAX_REOPENS in all
          open();
        }, delay);
      }
    };
  };

  open();
  return stop;
}
