// The chosen images: adding (picker, drag and drop, paste), client-side checks, cards with a
// local preview, a remove button and a per-file upload progress bar.
import type { Limits, RefusedFile } from './api';
import { formatBytes, h, icon, ICONS, listJoin, plural } from './dom';
import { FORMAT_KINDS, INPUT_FORMATS, SNIFF_BYTES, sniffImage, type InputFormat } from '../../src/thumbnails/options.js';

interface Item {
  id: number;
  file: File;
  url: string;
  pixels?: { w: number; h: number };
  error: string; // a client-side check failed: blocks sending
  serverError: string; // named in a server message: shown, not blocking
  card: HTMLLIElement;
  meta: HTMLElement;
  errorLine: HTMLElement;
  progress: HTMLProgressElement;
  progressLabel: HTMLElement;
  removeButton: HTMLButtonElement;
}

/** A short, friendly name for a MIME type list: "JPEG, PNG, GIF, WebP, TIFF or AVIF". */
export function describeTypes(types: string[]): string {
  const names = types.map((t) => {
    const known = INPUT_FORMATS.find((f) => FORMAT_KINDS[f].mime === t);
    return known ? FORMAT_KINDS[known].label : t.replace(/^image\//, '').toUpperCase();
  });
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

/**
 * What the file's first bytes say it is, as the server will find (its name and the browser's type
 * are only claims): a format read, 'heic', or undefined when the bytes are no image seler reads.
 */
export async function detectImage(file: File): Promise<InputFormat | 'heic' | undefined> {
  try {
    return sniffImage(new Uint8Array(await file.slice(0, SNIFF_BYTES).arrayBuffer()));
  } catch {
    return undefined; // unreadable (a file removed since it was chosen): refused like a non-image
  }
}

export class FilePicker {
  private items: Item[] = [];
  private nextId = 1;
  private disabled = false;
  private limits: Limits;
  private accepted: string[];

  constructor(
    private readonly input: HTMLInputElement,
    private readonly dropzone: HTMLElement,
    private readonly list: HTMLUListElement,
    private readonly notice: HTMLElement,
    private readonly onChange: () => void,
    limits: Limits,
    accepted: string[],
  ) {
    this.limits = limits;
    this.accepted = accepted;
    input.addEventListener('change', () => {
      void this.add(Array.from(input.files ?? []));
      input.value = ''; // so choosing the same file again still fires `change`
    });
    this.wireDragAndDrop();
    window.addEventListener('paste', (e) => {
      const files = Array.from(e.clipboardData?.files ?? []);
      if (files.length > 0 && !this.disabled) {
        e.preventDefault();
        void this.add(files);
      }
    });
  }

  setLimits(limits: Limits, accepted: string[]): void {
    this.limits = limits;
    this.accepted = accepted;
    for (const item of this.items) this.check(item);
    this.onChange();
  }

  files(): File[] {
    return this.items.map((i) => i.file);
  }

  count(): number {
    return this.items.length;
  }

  totalBytes(): number {
    return this.items.reduce((sum, i) => sum + i.file.size, 0);
  }

  /** Why the chosen files can't be sent, or '' when they can. */
  problem(): string {
    if (this.items.length === 0) return 'Add at least one image.';
    const bad = this.items.filter((i) => i.error).length;
    if (bad > 0) return `Remove the ${plural(bad, 'image')} marked in red first.`;
    if (this.items.length > this.limits.maxFiles) return `Choose at most ${this.limits.maxFiles} images.`;
    return '';
  }

  setDisabled(disabled: boolean): void {
    this.disabled = disabled;
    this.input.disabled = disabled;
    this.dropzone.classList.toggle('is-disabled', disabled);
    for (const item of this.items) item.removeButton.disabled = disabled;
  }

  /** Adds the files that pass the checks; each refused one is named with its reason. Resolves once the list shows them. */
  async add(files: File[]): Promise<void> {
    if (this.disabled || files.length === 0) return;
    const detected = await Promise.all(files.map(detectImage));
    const problems: string[] = [];
    const skipped: string[] = [];
    const { maxFiles, maxUploadBytes } = this.limits;
    for (const [i, file] of files.entries()) {
      const format = detected[i];
      const type = format && format !== 'heic' ? FORMAT_KINDS[format].mime : undefined;
      if (file.size === 0) {
        problems.push(`${file.name} is empty.`);
      } else if (format === undefined) {
        problems.push(`${file.name} is not an image: its first bytes are not those of a ${describeTypes(this.accepted)} file.`);
      } else if (type === undefined || !this.accepted.includes(type)) {
        problems.push(`${file.name} is ${format.toUpperCase()}; accepted are ${describeTypes(this.accepted)}.`);
      } else if (file.size > maxUploadBytes) {
        problems.push(`${file.name} is ${formatBytes(file.size)}; the limit is ${formatBytes(maxUploadBytes)} per file.`);
      } else if (this.items.some((i) => sameFile(i.file, file))) {
        problems.push(`${file.name} is already in the list.`);
      } else if (this.items.length >= maxFiles) {
        skipped.push(file.name);
      } else {
        this.items.push(this.createItem(file));
      }
    }
    if (skipped.length > 0) {
      problems.push(`Too many files: at most ${maxFiles} at a time, so ${listJoin(skipped)} ${skipped.length === 1 ? 'was' : 'were'} left out.`);
    }
    this.showNotice(problems);
    this.render();
    this.onChange();
  }

  remove(id: number): void {
    const index = this.items.findIndex((i) => i.id === id);
    const item = this.items[index];
    if (!item || this.disabled) return;
    URL.revokeObjectURL(item.url);
    this.items.splice(index, 1);
    this.render();
    // Keep keyboard users in place: the next card's remove button, else the picker.
    const next = this.items[index] ?? this.items[index - 1];
    (next?.removeButton ?? this.input).focus();
    this.onChange();
  }

  clear(): void {
    for (const item of this.items) URL.revokeObjectURL(item.url);
    this.items = [];
    this.showNotice([]);
    this.render();
    this.onChange();
  }

  /** Fractions 0..1 per file, in order; null hides the bars (not uploading). */
  setProgress(fractions: number[] | null): void {
    this.list.classList.toggle('is-uploading', fractions !== null);
    this.items.forEach((item, i) => {
      const f = fractions?.[i] ?? 0;
      item.progress.value = Math.round(f * 100);
      item.progressLabel.textContent = fractions === null ? '' : f >= 1 ? 'Uploaded' : f > 0 ? `${Math.round(f * 100)}%` : 'Waiting';
      item.card.classList.toggle('is-sent', fractions !== null && f >= 1);
    });
  }

  /**
   * Mark each file the server refused with its own reason; without that list, the files a message
   * names (e.g. a task's failure). Returns the names marked.
   */
  markRefused(refused: RefusedFile[], message: string): string[] {
    const named: string[] = [];
    for (const item of this.items) {
      const own = refused.find((r) => r.name === item.file.name);
      const reason = own ? own.message : refused.length === 0 && message.includes(item.file.name) ? message : '';
      if (!reason) continue;
      item.serverError = reason;
      this.show(item);
      named.push(item.file.name);
    }
    return named;
  }

  clearServerErrors(): void {
    for (const item of this.items) {
      item.serverError = '';
      this.show(item);
    }
  }

  private showNotice(problems: string[]): void {
    this.notice.replaceChildren(...problems.map((p) => h('li', {}, p)));
    this.notice.hidden = problems.length === 0;
  }

  private check(item: Item): void {
    const { maxUploadBytes, maxPixels } = this.limits;
    let error = '';
    if (item.file.size > maxUploadBytes) error = `Too large: the limit is ${formatBytes(maxUploadBytes)} per file.`;
    else if (item.pixels && item.pixels.w * item.pixels.h > maxPixels) {
      error = `Too many pixels (${item.pixels.w}×${item.pixels.h}); the limit is ${(maxPixels / 1e6).toFixed(0)} megapixels.`;
    }
    item.error = error;
    this.show(item);
  }

  private show(item: Item): void {
    const text = item.error || item.serverError;
    item.errorLine.textContent = text;
    item.errorLine.hidden = !text;
    item.card.classList.toggle('has-error', !!text);
  }

  private createItem(file: File): Item {
    const id = this.nextId++;
    const url = URL.createObjectURL(file);
    const img = h('img', { src: url, alt: '', decoding: 'async' });
    const thumb = h('div', { class: 'file-thumb' }, img);
    const meta = h('p', { class: 'file-meta' }, formatBytes(file.size));
    const errorLine = h('p', { class: 'file-error', hidden: true });
    const progressLabel = h('span', { class: 'file-progress-label', 'aria-hidden': 'true' });
    const progress = h('progress', {
      'data-testid': 'upload-progress',
      max: 100,
      value: 0,
      'aria-label': `Upload of ${file.name}`,
    });
    const removeButton = h('button', { type: 'button', class: 'icon-btn', 'aria-label': `Remove ${file.name}`, title: 'Remove' }, icon(ICONS.close));
    const card = h(
      'li',
      { class: 'file-card', 'data-testid': 'file-card' },
      thumb,
      h('div', { class: 'file-body' },
        h('p', { class: 'file-name', title: file.name }, file.name),
        meta,
        errorLine,
        h('div', { class: 'file-progress' }, progress, progressLabel),
      ),
      removeButton,
    );
    const item: Item = { id, file, url, error: '', serverError: '', card, meta, errorLine, progress, progressLabel, removeButton };
    removeButton.addEventListener('click', () => this.remove(id));
    img.addEventListener('load', () => {
      item.pixels = { w: img.naturalWidth, h: img.naturalHeight };
      meta.textContent = `${formatBytes(file.size)} · ${img.naturalWidth}×${img.naturalHeight}`;
      this.check(item);
      this.onChange();
    });
    img.addEventListener('error', () => {
      // e.g. TIFF: the browser can't preview it, the server can still read it.
      thumb.replaceChildren(icon(ICONS.image, 'icon file-thumb-placeholder'));
      thumb.title = 'No preview in this browser';
    });
    this.check(item);
    return item;
  }

  private render(): void {
    this.list.replaceChildren(...this.items.map((i) => i.card));
    this.list.hidden = this.items.length === 0;
    this.dropzone.classList.toggle('has-files', this.items.length > 0);
  }

  private wireDragAndDrop(): void {
    let depth = 0; // dragenter/leave fire for every child; count to know when we really left
    const hasFiles = (e: DragEvent): boolean => Array.from(e.dataTransfer?.types ?? []).includes('Files');
    window.addEventListener('dragenter', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth += 1;
      document.body.classList.toggle('is-dragging', !this.disabled);
    });
    window.addEventListener('dragleave', (e) => {
      if (!hasFiles(e)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) document.body.classList.remove('is-dragging');
    });
    window.addEventListener('dragover', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault(); // allow dropping anywhere on the page instead of the browser opening the file
      if (e.dataTransfer) e.dataTransfer.dropEffect = this.disabled ? 'none' : 'copy';
      const over = this.dropzone.contains(e.target as Node);
      this.dropzone.classList.toggle('is-over', over && !this.disabled);
    });
    window.addEventListener('drop', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth = 0;
      document.body.classList.remove('is-dragging');
      this.dropzone.classList.remove('is-over');
      void this.add(Array.from(e.dataTransfer?.files ?? []));
    });
  }
}

function sameFile(a: File, b: File): boolean {
  return a.name === b.name && a.size === b.size && a.lastModified === b.lastModified;
}
