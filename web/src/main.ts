// The Thumbnailer page: choose images and options, upload once, follow the task live, download.
import './base.css';
import './files.css';
import './options.css';
import './job.css';
import { ApiError, DEFAULT_CONFIG, fetchConfig, isTerminal, revokeTask, type Accepted, type Config, type Task } from './api';
import { byId, formatBytes, plural, prefersReducedMotion } from './dom';
import { watchTask } from './events';
import { describeTypes, FilePicker } from './files';
import { SizePicker } from './sizes';
import { DEFAULT_FIT } from '../../src/thumbnails/options.js';
import { upload, type UploadHandle } from './upload';
import { autoDownload, formatLabel, JobView, statusText, type Phase } from './view';

const form = byId<HTMLFormElement>('form');
const options = byId<HTMLFieldSetElement>('options');
const submit = byId<HTMLButtonElement>('submit');
const formSummary = byId('form-summary');
const format = byId<HTMLSelectElement>('format');
const quality = byId<HTMLInputElement>('quality');
const qualityMessage = byId('quality-message');
const position = byId<HTMLSelectElement>('position');
const positionField = byId('position-field');
const archiveName = byId<HTMLInputElement>('archive-name');
const cancel = byId<HTMLButtonElement>('cancel');
const clearFiles = byId<HTMLButtonElement>('clear-files');
const filesSummary = byId('files-summary');
const fileHint = byId('file-hint');
const view = new JobView();

let config: Config = DEFAULT_CONFIG;
let phase: Phase = 'idle';
let uploading: UploadHandle | null = null;
let job: Accepted | null = null;
let stopWatching: (() => void) | null = null;
const downloaded = new Set<string>();

const files = new FilePicker(
  byId<HTMLInputElement>('file-input'),
  byId('dropzone'),
  byId<HTMLUListElement>('file-list'),
  byId('file-notice'),
  () => refresh(),
  config.limits,
  config.accepted,
);

const sizes = new SizePicker(
  byId('size-chips'),
  byId<HTMLInputElement>('custom-size'),
  byId<HTMLButtonElement>('add-size'),
  byId('size-message'),
  () => refresh(),
);

/** Re-derive the summary line and whether the form can be sent. */
function refresh(): void {
  const n = files.count();
  const m = sizes.selected().length;
  const problem = files.problem() || sizes.problem() || qualityProblem();
  const busy = phase === 'uploading' || phase === 'processing';
  submit.disabled = busy || problem !== '';
  clearFiles.hidden = n === 0 || busy;
  filesSummary.textContent = n === 0 ? '' : `${plural(n, 'image')} · ${formatBytes(files.totalBytes())}`;
  if (busy) return;
  formSummary.classList.toggle('is-problem', problem !== '' && n > 0);
  formSummary.textContent =
    problem && n > 0 ? problem : n === 0 ? 'Add images to begin.' : `${plural(n, 'image')} × ${plural(m, 'size')} → ${plural(n * m, 'thumbnail')}`;
}

function setPhase(next: Phase): void {
  phase = next;
  const busy = next === 'uploading' || next === 'processing';
  document.body.dataset['phase'] = next;
  options.disabled = busy;
  files.setDisabled(busy);
  cancel.hidden = !busy;
  submit.textContent = next === 'uploading' ? 'Uploading…' : next === 'processing' ? 'Processing…' : 'Make thumbnails';
  submit.setAttribute('aria-busy', String(busy));
  refresh();
}

function fitValue(): string {
  return form.querySelector<HTMLInputElement>('input[name="fit"]:checked')?.value ?? DEFAULT_FIT;
}

/** Why the quality can't be sent ('' when empty: each format's default). */
function qualityProblem(): string {
  const { min, max } = config.quality;
  const text = quality.value.trim();
  const ok = text === '' || (/^\d{1,3}$/.test(text) && Number(text) >= min && Number(text) <= max);
  quality.setAttribute('aria-invalid', String(!ok));
  return ok ? '' : `Quality must be a whole number from ${min} to ${max}.`;
}

function showQualityHelp(): void {
  const problem = qualityProblem();
  const d = config.quality.defaults;
  qualityMessage.textContent = problem || `${config.quality.min}–${config.quality.max}; empty: JPEG ${d.jpeg}, WebP ${d.webp}, AVIF ${d.avif}.`;
  qualityMessage.classList.toggle('is-error', problem !== '');
}

/** The crop position applies to cover only: shown with it. */
function showPosition(): void {
  positionField.hidden = fitValue() !== 'cover' || config.positions.length === 0;
}

async function start(): Promise<void> {
  if (phase === 'uploading' || phase === 'processing' || files.problem() || sizes.problem() || qualityProblem()) return;
  view.hideError();
  view.hideResults();
  files.clearServerErrors();
  const chosen = files.files();
  const weights = chosen.map((f) => f.size);
  const totalBytes = weights.reduce((a, b) => a + b, 0) || 1;
  setPhase('uploading');
  files.setProgress(chosen.map(() => 0));
  view.setStatus('uploading', 'Uploading… 0%', '', 0);
  view.setMeta(`${plural(chosen.length, 'image')} · ${formatBytes(totalBytes)}`);
  revealStatus();

  uploading = upload({
    files: chosen,
    sizes: sizes.value(),
    format: format.value || 'original',
    fit: fitValue(),
    quality: quality.value.trim(),
    position: position.value,
    archiveName: archiveName.value.trim(),
    onProgress: (fractions) => {
      files.setProgress(fractions);
      const sent = fractions.reduce((sum, f, i) => sum + f * (weights[i] ?? 0), 0) / totalBytes;
      view.setStatus('uploading', sent >= 1 ? 'Uploaded, handing over…' : `Uploading… ${Math.floor(sent * 100)}%`, '', sent);
    },
  });
  try {
    const accepted = await uploading.done;
    uploading = null;
    follow(accepted);
  } catch (err) {
    uploading = null;
    files.setProgress(null);
    view.hideStatus();
    setPhase('idle');
    const e = err instanceof ApiError ? err : new ApiError('UNKNOWN', String(err));
    if (e.code === 'ABORTED') return;
    const named = files.markRefused(e.files, e.message);
    const title = errorTitle(e, named);
    view.showError(title, e.message, e.retryable ? { label: 'Retry', run: () => void start() } : null);
  }
}

/** Bring the status panel into view when it is below the fold (long file lists, phones). */
function revealStatus(): void {
  const rect = view.panel.getBoundingClientRect();
  if (rect.top < 0 || rect.bottom > window.innerHeight) {
    view.panel.scrollIntoView({ behavior: prefersReducedMotion() ? 'auto' : 'smooth', block: 'center' });
  }
}

function errorTitle(e: ApiError, named: string[]): string {
  if (named.length > 1) return `${named.length} files refused`;
  const which = named.length === 1 ? `: ${named[0]}` : '';
  switch (e.httpStatus) {
    case 0:
      return 'Connection problem';
    case 413:
      return `Too large${which}`;
    case 415:
      return `Unsupported file${which}`;
    case 422:
      return `Could not read an image${which}`;
    case 429:
      return 'Too many requests';
    case 400:
      return 'Please check the form';
    default:
      return 'Upload failed';
  }
}

/** Follow the accepted task over SSE until it ends. */
function follow(accepted: Accepted): void {
  job = accepted;
  setPhase('processing');
  view.hideError();
  onTask({ id: accepted.id, name: 'thumbnails.make', status: accepted.status ?? 'PENDING', dateCreated: '' });
  stopWatching?.();
  stopWatching = watchTask(accepted, {
    onTask,
    onConnection: (state) => view.setMeta(state === 'live' ? taskMeta(accepted.id) : 'Connection lost, reconnecting…'),
    onLost: (message) => {
      view.showError('Lost connection', `${message} The task keeps running on the server.`, {
        label: 'Check again',
        run: () => follow(accepted),
      });
    },
  });
}

function taskMeta(id: string, task?: Task): string {
  const short = `Task ${id.slice(0, 8)}`;
  if (task?.dateDone && task.dateCreated) {
    const ms = Date.parse(task.dateDone) - Date.parse(task.dateCreated);
    if (Number.isFinite(ms) && ms >= 0) return `${short} · took ${ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`}`;
  }
  return short;
}

function onTask(task: Task): void {
  if (!job || task.id !== job.id) return;
  const text = statusText(task);
  if (!isTerminal(task.status)) {
    const p = task.progress;
    view.setStatus('processing', text, task.status, p && p.total > 0 ? p.current / p.total : null);
    view.setMeta(taskMeta(task.id, task));
    return;
  }
  stopWatching = null;
  view.setStatus('done', text, task.status, 1);
  view.setMeta(taskMeta(task.id, task));
  setPhase('done');
  if (task.status === 'SUCCESS') {
    view.showResults(task);
    const url = task.result?.archiveUrl;
    if (url && !downloaded.has(task.id)) {
      downloaded.add(task.id);
      autoDownload(url);
    }
    byId('results').scrollIntoView({
      behavior: prefersReducedMotion() ? 'auto' : 'smooth',
      block: 'start',
    });
    return;
  }
  const failed = task.status === 'FAILURE';
  const message = task.error?.message ?? (failed ? 'The worker could not make the thumbnails.' : 'The task was cancelled before it finished.');
  files.markRefused([], message);
  view.showError(failed ? 'Thumbnails failed' : 'Task cancelled', message, { label: 'Try again', run: tryAgain });
}

/** Back to the form with the same files, ready to submit again. */
function tryAgain(): void {
  stopWatching?.();
  stopWatching = null;
  job = null;
  view.hideError();
  view.hideStatus();
  view.hideResults();
  files.setProgress(null);
  files.clearServerErrors();
  setPhase('idle');
  submit.focus();
}

function newBatch(): void {
  tryAgain();
  files.clear();
  window.scrollTo({ top: 0, behavior: prefersReducedMotion() ? 'auto' : 'smooth' });
  byId('file-input').focus({ preventScroll: true });
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  void start();
});

cancel.addEventListener('click', () => {
  if (uploading) {
    uploading.abort();
    return;
  }
  if (job && phase === 'processing') {
    cancel.disabled = true;
    revokeTask(job)
      .catch((err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        view.showError('Could not cancel', message, null);
      })
      .finally(() => {
        cancel.disabled = false;
      });
  }
});

clearFiles.addEventListener('click', () => files.clear());
byId('new-batch').addEventListener('click', newBatch);

window.addEventListener('beforeunload', (e) => {
  if (phase === 'uploading') e.preventDefault();
});

function applyConfig(next: Config): void {
  config = next;
  const { limits } = next;
  files.setLimits(limits, next.accepted);
  sizes.setLimits(limits.maxSizes, limits.maxDimension);
  fileHint.textContent = `${describeTypes(next.accepted)} · up to ${plural(limits.maxFiles, 'file')}, ${formatBytes(limits.maxUploadBytes)} each`;
  const current = format.value;
  formatSelect(next.formats, current);
  for (const input of form.querySelectorAll<HTMLInputElement>('input[name="fit"]')) {
    const option = input.closest<HTMLElement>('.fit-option');
    if (option) option.hidden = !next.fits.includes(input.value as Config['fits'][number]);
  }
  quality.min = String(next.quality.min);
  quality.max = String(next.quality.max);
  const chosen = position.value;
  position.replaceChildren(...next.positions.map((p) => new Option(POSITION_LABELS[p] ?? p, p, false, p === chosen)));
  if (!chosen || !next.positions.some((p) => p === chosen)) position.value = next.positions.includes('centre') ? 'centre' : (next.positions[0] ?? '');
  showPosition();
  showQualityHelp();
  refresh();
}

const POSITION_LABELS: Record<string, string> = {
  attention: 'Smart: what draws the eye',
  entropy: 'Smart: the most detail',
  centre: 'Centre',
  north: 'Top',
  northeast: 'Top right',
  east: 'Right',
  southeast: 'Bottom right',
  south: 'Bottom',
  southwest: 'Bottom left',
  west: 'Left',
  northwest: 'Top left',
};

quality.addEventListener('input', () => {
  showQualityHelp();
  refresh();
});
form.addEventListener('change', (e) => {
  if ((e.target as HTMLInputElement).name === 'fit') showPosition();
});

function formatSelect(formats: readonly string[], current: string): void {
  format.replaceChildren(
    ...formats.map((f) => new Option(f === 'original' ? 'Same as input' : formatLabel(f), f, false, f === current)),
  );
  if (!formats.includes(current) && formats[0]) format.value = formats[0];
}

applyConfig(config);
setPhase('idle');
fetchConfig().then(applyConfig, (err: unknown) => {
  console.warn('Using default limits: /api/v1/config failed', err);
});
