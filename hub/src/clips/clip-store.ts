import { createContentStore } from '../media/content-store.js';

/** An MP4 starts with an `ftyp` box: bytes 4-7. */
export function isMp4(bytes: Buffer): boolean {
  return bytes.length >= 12 && bytes.toString('latin1', 4, 8) === 'ftyp';
}

/** Event clips (MP4), content-addressed like snapshots (media/content-store.ts), in a directory of their own. */
export function createClipStore(dir: string) {
  return createContentStore(dir, {
    what: 'clip',
    ext: 'mp4',
    accepts: isMp4,
    refusal: { code: 'not_mp4', message: 'body is not an MP4 file' },
  });
}
export type ClipStore = ReturnType<typeof createClipStore>;
