import type { Readable } from 'node:stream';
import { CONTENT_REF_PATTERN, createContentStore } from './content-store.js';

export const SNAPSHOT_REF_PATTERN = CONTENT_REF_PATTERN;

/** Snapshot JPEGs, content-addressed (content-store.ts). */
export function createSnapshotStore(dir: string) {
  const store = createContentStore(dir, {
    what: 'snapshot',
    ext: 'jpg',
    accepts: (bytes) => bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8,
    refusal: { code: 'not_jpeg', message: 'body is not a JPEG image' },
  });
  return {
    ...store,
    /** The whole picture and its size, or null when there is none under that reference. */
    async open(ref: string): Promise<{ stream: Readable; size: number } | null> {
      const size = await store.size(ref);
      return size === null ? null : { stream: store.read(ref), size };
    },
  };
}
export type SnapshotStore = ReturnType<typeof createSnapshotStore>;
