// The ceiling: what libvips alone does with the same photos. Decode + resize + encode with plain sharp,
// from bytes already in memory (no I/O, no probe, no zip), N images at a time. Encoder settings are
// seler's, so only the work around the pixels differs.
import sharp, { type Sharp } from 'sharp';

export type BareFormat = 'original' | 'jpeg' | 'png' | 'webp' | 'avif';

export interface BareResult {
  images: number;
  seconds: number;
  imagesPerSecond: number;
  /** CPU seconds of this process per image (sharp's threads included). */
  cpuPerImage: number;
}

function encode(pipeline: Sharp, format: Exclude<BareFormat, 'original'>): Sharp {
  switch (format) {
    case 'jpeg':
      return pipeline.jpeg({ quality: 82 });
    case 'png':
      return pipeline.png({ compressionLevel: 6 });
    case 'webp':
      return pipeline.webp({ quality: 80, effort: 2 });
    case 'avif':
      return pipeline.avif({ quality: 50, effort: 0 });
  }
}

/** One plain sharp pipeline per size (each decodes the input again, as the lab's Pillow code does). */
async function thumbnails(photo: BarePhoto, sizes: number[], format: BareFormat): Promise<void> {
  for (const size of sizes) {
    const pipeline = sharp(photo.data).rotate().resize(size, size, { fit: 'inside', withoutEnlargement: true });
    await encode(pipeline, format === 'original' ? photo.format : format).toBuffer();
  }
}

/** A photo in memory; `format` is what 'original' encodes to (known before the clock starts). */
export interface BarePhoto {
  data: Buffer;
  format: 'jpeg' | 'png';
}

export async function bareSharp(photos: BarePhoto[], options: { sizes: number[]; format: BareFormat; concurrency: number }): Promise<BareResult> {
  sharp.cache(false);
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next < photos.length) await thumbnails(photos[next++]!, options.sizes, options.format);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { images: photos.length, seconds, imagesPerSecond: photos.length / seconds, cpuPerImage: (used.user + used.system) / 1e6 / photos.length };
}
