// Rendering of the job: status line, error panel and the thumbnail results.
import type { Task, ThumbnailFile } from './api';
import { byId, formatBytes, h, plural } from './dom';

/** The status sentence for a task state (pure, so it reads the same everywhere). */
export function statusText(task: Pick<Task, 'status' | 'progress' | 'result'>): string {
  const p = task.progress;
  switch (task.status) {
    case 'PENDING':
      return 'Queued…';
    case 'STARTED':
      return 'Starting…';
    case 'PROGRESS':
      if (p && p.total > 0) return `Processing… ${p.current} of ${p.total}${p.step ? ` (${p.step})` : ''}`;
      return 'Processing…';
    case 'RETRY':
      return 'Hit a problem, retrying…';
    case 'SUCCESS': {
      const n = task.result?.files.length ?? 0;
      return `Done: ${plural(n, 'thumbnail')} ready`;
    }
    case 'FAILURE':
      return 'Failed';
    case 'REVOKED':
      return 'Cancelled';
    default:
      return String(task.status);
  }
}

const FORMAT_LABELS: Record<string, string> = {
  jpeg: 'JPEG', jpg: 'JPEG', png: 'PNG', webp: 'WebP', avif: 'AVIF', gif: 'GIF', tiff: 'TIFF', heif: 'HEIF',
};
export const formatLabel = (f: string): string => FORMAT_LABELS[f.toLowerCase()] ?? f.toUpperCase();

export type Phase = 'idle' | 'uploading' | 'processing' | 'done';

export class JobView {
  readonly panel = byId('job');
  private readonly status = byId('status');
  private readonly bar = byId<HTMLProgressElement>('task-progress');
  private readonly meta = byId('job-meta');
  private readonly errorPanel = byId('error');
  private readonly errorTitle = byId('error-title');
  private readonly errorMessage = byId('error-message');
  private readonly errorAction = byId<HTMLButtonElement>('error-action');
  private readonly results = byId('results');
  private readonly grid = byId('thumb-grid');
  private readonly summary = byId('results-summary');
  private readonly download = byId<HTMLAnchorElement>('download');

  /** Show the status panel in a phase; `fraction` null = indeterminate bar. */
  setStatus(phase: Phase, text: string, celeryStatus: string, fraction: number | null): void {
    this.panel.hidden = false;
    this.panel.dataset['phase'] = phase;
    this.panel.dataset['status'] = celeryStatus;
    this.status.textContent = text;
    this.status.dataset['status'] = celeryStatus;
    if (fraction === null) this.bar.removeAttribute('value');
    else this.bar.value = Math.round(fraction * 1000) / 10;
    this.bar.hidden = phase === 'done';
  }

  setMeta(text: string): void {
    this.meta.textContent = text;
  }

  hideStatus(): void {
    this.panel.hidden = true;
    this.status.textContent = '';
    this.status.dataset['status'] = '';
    this.meta.textContent = '';
  }

  showError(title: string, message: string, action: { label: string; run: () => void } | null): void {
    this.errorTitle.textContent = title;
    this.errorMessage.textContent = message;
    this.errorAction.hidden = !action;
    this.errorAction.textContent = action?.label ?? '';
    this.errorAction.onclick = action ? () => action.run() : null;
    this.errorPanel.hidden = false;
  }

  hideError(): void {
    this.errorPanel.hidden = true;
    this.errorAction.onclick = null;
  }

  showResults(task: Task): void {
    const files = task.result?.files ?? [];
    const archiveUrl = task.result?.archiveUrl ?? '';
    const total = files.reduce((sum, f) => sum + (f.bytes || 0), 0);
    this.summary.textContent = `${plural(files.length, 'thumbnail')} · ${formatBytes(total)}`;
    this.download.href = archiveUrl;
    this.download.hidden = !archiveUrl;
    this.grid.replaceChildren(...files.map(thumbCard));
    this.results.hidden = false;
  }

  hideResults(): void {
    this.results.hidden = true;
    this.grid.replaceChildren();
    this.download.removeAttribute('href');
  }
}

function thumbCard(file: ThumbnailFile): HTMLLIElement {
  const img = h('img', {
    src: file.url,
    alt: `${file.name}, ${file.width}×${file.height}`,
    width: file.width,
    height: file.height,
    loading: 'lazy',
    decoding: 'async',
    'data-testid': 'thumbnail',
  });
  return h(
    'li',
    { class: 'thumb' },
    h('a', { class: 'thumb-frame', href: file.url, target: '_blank', rel: 'noopener', title: `Open ${file.name}` }, img),
    h('div', { class: 'thumb-body' },
      h('p', { class: 'thumb-name', title: file.name }, ...breakable(file.name)),
      h('p', { class: 'thumb-meta' },
        h('span', {}, `${file.width}×${file.height}`),
        h('span', { class: 'badge' }, formatLabel(file.format)),
        h('span', {}, formatBytes(file.bytes)),
      ),
    ),
  );
}

/** "elephants_256x256.jpg" with line-break opportunities after "_" and "-". */
function breakable(name: string): (string | HTMLElement)[] {
  return name.split(/(?<=[_-])/).flatMap((part, i) => (i === 0 ? [part] : [h('wbr'), part]));
}

/** Start the archive download once, as the lab's page did, by clicking a temporary anchor. */
export function autoDownload(url: string, filename = ''): void {
  const a = h('a', { href: url, download: filename || true, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
}
