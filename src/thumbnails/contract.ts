// The Thumbnailer's JSON shapes that the browser reads too, and (re-exported) the default limits
// the configuration reads. The page (web/src) imports it: nothing here touches a Node API.
import type { TaskState } from '../tasks/contract.js';
import type { Fit, LossyFormat, OutputFormat, Position, UploadLimits } from './options.js';

export { DEFAULT_DECODE_MEMORY_BYTES, DEFAULT_LIMITS, type UploadLimits } from './options.js';


/** GET /api/v1/config: what the upload form may offer. */
export interface ThumbnailerSettings {
  limits: UploadLimits;
  formats: OutputFormat[];
  fits: Fit[];
  /** Where `cover` crops (smart crops first, then gravities). */
  positions: Position[];
  /** The range of `quality` and its default per lossy format. */
  quality: { min: number; max: number; defaults: Record<LossyFormat, number> };
  accepted: string[];
}

/** 202 answer of POST /api/v1/thumbnails. */
export interface ThumbnailsAccepted {
  id: string;
  status: TaskState;
  statusUrl: string;
  eventsUrl: string;
  /** Revokes the task (DELETE statusUrl with header X-Cancel-Token); given only in this answer. */
  cancelToken: string;
}

export interface ThumbnailFile {
  name: string;
  width: number;
  height: number;
  format: string;
  bytes: number;
  url: string;
  /** The uploaded file it was made from. */
  source: string;
}

/** The result of thumbnails.make. */
export interface MakeThumbnailsResult {
  archiveUrl: string;
  /** The zip's download name: the client's, or "<first original> and N more". */
  archiveName?: string;
  archiveBytes: number;
  files: ThumbnailFile[];
}
