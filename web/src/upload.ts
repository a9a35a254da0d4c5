// One multipart POST to /api/v1/thumbnails with per-file upload progress.
import { ApiError, errorFromResponse, type Accepted } from './api';

export interface UploadOptions {
  files: File[];
  sizes: string; // "128x128,256x256"
  format: string;
  fit: string;
  /** '' : each format's default. */
  quality: string;
  /** Sent only for fit=cover. */
  position: string;
  /** '': the server names the zip after the images. */
  archiveName: string;
  /** Called with one fraction (0..1) per file, in order, as bytes go out. */
  onProgress: (perFile: number[]) => void;
}

export interface UploadHandle {
  done: Promise<Accepted>;
  abort: () => void;
}

/**
 * Spread the bytes sent so far over the files. A multipart body is the small text fields, then
 * each file preceded by its part header, in order; the overhead (total minus file bytes) is
 * shared evenly between the fields block and each file header, so each file's bar fills in turn.
 */
export function spreadProgress(loaded: number, total: number, sizes: number[]): number[] {
  const fileBytes = sizes.reduce((a, b) => a + b, 0);
  const overhead = Math.max(0, total - fileBytes);
  const perPart = overhead / (sizes.length + 1);
  let offset = perPart; // the fields come first
  return sizes.map((size) => {
    const start = offset + perPart; // this file's part header
    offset = start + size;
    if (size === 0) return loaded >= start ? 1 : 0;
    return Math.min(1, Math.max(0, (loaded - start) / size));
  });
}

export function upload(opts: UploadOptions): UploadHandle {
  const xhr = new XMLHttpRequest();
  const sizes = opts.files.map((f) => f.size);
  const done = new Promise<Accepted>((resolve, reject) => {
    const form = new FormData();
    // Fields first so the server knows the options before the files stream in.
    form.append('sizes', opts.sizes);
    form.append('format', opts.format);
    form.append('fit', opts.fit);
    if (opts.quality) form.append('quality', opts.quality);
    if (opts.fit === 'cover' && opts.position) form.append('position', opts.position);
    if (opts.archiveName) form.append('archiveName', opts.archiveName);
    for (const file of opts.files) form.append('images', file, file.name);

    xhr.open('POST', '/api/v1/thumbnails');
    xhr.setRequestHeader('accept', 'application/json');
    xhr.responseType = 'text';

    xhr.upload.onprogress = (e) => {
      const total = e.lengthComputable && e.total > 0 ? e.total : sizes.reduce((a, b) => a + b, 0);
      opts.onProgress(spreadProgress(e.loaded, total, sizes));
    };
    xhr.upload.onload = () => opts.onProgress(sizes.map(() => 1));

    xhr.onload = () => {
      if (xhr.status === 202 || xhr.status === 200 || xhr.status === 201) {
        try {
          const body = JSON.parse(xhr.responseText) as Accepted;
          if (!body.id || !body.statusUrl || !body.eventsUrl) throw new Error('incomplete');
          resolve(body);
        } catch {
          reject(new ApiError('BAD_RESPONSE', 'The server accepted the upload but its answer was unreadable.', xhr.status, true));
        }
        return;
      }
      reject(errorFromResponse(xhr.status, xhr.responseText, xhr.getResponseHeader('retry-after')));
    };
    xhr.onerror = () =>
      reject(new ApiError('NETWORK', 'Could not reach the server. Check your connection and try again.', 0, true));
    xhr.ontimeout = () => reject(new ApiError('TIMEOUT', 'The upload timed out. Try again.', 0, true));
    xhr.onabort = () => reject(new ApiError('ABORTED', 'Upload cancelled.', 0, true));

    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}
