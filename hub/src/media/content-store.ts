import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { AppError, BadRequestError } from '../errors.js';

/** What agents upload under: the SHA-256 of the bytes (snapshots and clips alike). */
export const CONTENT_REF_PATTERN = '^sha256:[0-9a-f]{64}$';
const REF = new RegExp(CONTENT_REF_PATTERN);

export class StorageFullError extends AppError {
  constructor(what: string) {
    super('insufficient_storage', `the ${what} store is out of disk space`, 507);
  }
}

export interface ContentKind {
  /** For people: `snapshot`, `clip`. */
  what: string;
  /** The file extension under which the kind is kept. */
  ext: string;
  /** Whether the bytes are of this kind (checked before anything is written), and the code that says they are not. */
  accepts: (bytes: Buffer) => boolean;
  refusal: { code: string; message: string };
}

/**
 * Content-addressed files on disk: the name is the SHA-256 of the bytes, so an upload is idempotent and a file cannot
 * be swapped; written under a temporary name and renamed, so a crash or a full disk never leaves half a file under a
 * valid name; readable by the hub's owner and group only (footage is not for every local account). One store a kind
 * (snapshots, clips), each in its own directory.
 */
export function createContentStore(dir: string, kind: ContentKind) {
  const pathOf = (ref: string) => {
    const hex = ref.slice('sha256:'.length);
    return join(dir, hex.slice(0, 2), `${hex}.${kind.ext}`);
  };
  /** The file's size, or null when there is none under that reference. */
  const size = async (ref: string): Promise<number | null> => {
    if (!REF.test(ref)) return null;
    try {
      return (await stat(pathOf(ref))).size;
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return null;
      throw err;
    }
  };
  /** Throws unless `bytes` are of the store's kind and their digest is `ref` (the reference the uploader claims). */
  const check = (ref: string, bytes: Buffer): void => {
    if (!REF.test(ref)) throw new BadRequestError('invalid_reference', 'reference must be sha256:<64 hex digits>');
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (`sha256:${digest}` !== ref) {
      throw new BadRequestError('digest_mismatch', `body has sha256:${digest}, not ${ref}`);
    }
    if (!kind.accepts(bytes)) throw new BadRequestError(kind.refusal.code, kind.refusal.message);
  };
  return {
    isRef: (ref: string) => REF.test(ref),
    check,
    size,
    async has(ref: string): Promise<boolean> {
      return (await size(ref)) !== null;
    },

    /** Checks and writes the bytes; `created` false when the file was already there. */
    async put(ref: string, bytes: Buffer): Promise<{ created: boolean }> {
      check(ref, bytes);
      if ((await size(ref)) !== null) return { created: false };
      const target = pathOf(ref);
      await mkdir(join(target, '..'), { recursive: true, mode: 0o750 });
      const tmp = `${target}.${randomUUID()}.tmp`;
      try {
        await writeFile(tmp, bytes, { mode: 0o640 });
        await rename(tmp, target);
      } catch (err) {
        await unlink(tmp).catch(() => undefined); // best effort: the temporary name is never served
        if ((err as { code?: string }).code === 'ENOSPC') throw new StorageFullError(kind.what);
        throw err;
      }
      return { created: true };
    },

    /** The file, or the bytes `range` names (inclusive ends, as HTTP ranges). */
    read(ref: string, range?: { start: number; end: number }): Readable {
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
export type ContentStore = ReturnType<typeof createContentStore>;
