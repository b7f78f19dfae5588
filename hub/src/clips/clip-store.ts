import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BadRequestError } from '../errors.js';
import { SNAPSHOT_REF_PATTERN, StorageFullError } from '../media/snapshot-store.js';
import type { ByteRange } from './range.js';

const REF = new RegExp(SNAPSHOT_REF_PATTERN);

/** An MP4 starts with an `ftyp` box: bytes 4-7. */
export function isMp4(bytes: Buffer): boolean {
  return bytes.length >= 12 && bytes.toString('latin1', 4, 8) === 'ftyp';
}

/**
 * Content-addressed MP4 store on disk, the snapshot store's discipline: the name is the SHA-256 of the bytes, so an
 * upload is idempotent and a file cannot be swapped; written under a temporary name and renamed, so a crash never
 * leaves half a clip under a valid name; readable by the hub's owner and group only.
 */
export function createClipStore(dir: string) {
  const pathOf = (ref: string) => {
    const hex = ref.slice('sha256:'.length);
    return join(dir, hex.slice(0, 2), `${hex}.mp4`);
  };
  const exists = (ref: string) =>
    stat(pathOf(ref)).then(
      () => true,
      () => false,
    );
  /** Throws unless `bytes` are an MP4 whose digest is `ref` (the reference the uploader claims). */
  const check = (ref: string, bytes: Buffer): void => {
    if (!REF.test(ref)) throw new BadRequestError('invalid_reference', 'reference must be sha256:<64 hex digits>');
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (`sha256:${digest}` !== ref) {
      throw new BadRequestError('digest_mismatch', `body has sha256:${digest}, not ${ref}`);
    }
    if (!isMp4(bytes)) throw new BadRequestError('not_mp4', 'body is not an MP4 file');
  };
  return {
    check,

    /** Checks and writes the bytes; `created` false when the file was already there. */
    async put(ref: string, bytes: Buffer): Promise<{ created: boolean }> {
      check(ref, bytes);
      const target = pathOf(ref);
      if (await exists(ref)) return { created: false };
      await mkdir(join(target, '..'), { recursive: true, mode: 0o750 });
      const tmp = `${target}.${randomUUID()}.tmp`;
      try {
        await writeFile(tmp, bytes, { mode: 0o640 });
        await rename(tmp, target);
      } catch (err) {
        await unlink(tmp).catch(() => undefined); // best effort: the temporary name is never served
        if ((err as { code?: string }).code === 'ENOSPC') throw new StorageFullError();
        throw err;
      }
      return { created: true };
    },

    async size(ref: string): Promise<number | null> {
      if (!REF.test(ref)) return null;
      try {
        return (await stat(pathOf(ref))).size;
      } catch (err) {
        if ((err as { code?: string }).code === 'ENOENT') return null;
        throw err;
      }
    },

    /** The file, or the part of it `range` names. */
    open(ref: string, range?: ByteRange): Readable {
      return createReadStream(pathOf(ref), range ? { start: range.start, end: range.end } : {});
    },

    /** The file's path, for the evidence export (which copies it into the archive). */
    path: pathOf,

    async remove(ref: string): Promise<void> {
      if (!REF.test(ref)) return;
      await unlink(pathOf(ref)).catch((err: { code?: string }) => {
        if (err.code !== 'ENOENT') throw err;
      });
    },
  };
}
export type ClipStore = ReturnType<typeof createClipStore>;
