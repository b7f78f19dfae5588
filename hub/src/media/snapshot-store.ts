import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { AppError, BadRequestError } from '../errors.js';

export const SNAPSHOT_REF_PATTERN = '^sha256:[0-9a-f]{64}$';
const REF = new RegExp(SNAPSHOT_REF_PATTERN);

export class StorageFullError extends AppError {
  constructor() {
    super('insufficient_storage', 'the snapshot store is out of disk space', 507);
  }
}

/** Content-addressed JPEG store on disk: the file name is the SHA-256 of its bytes, so uploads are idempotent. */
export function createSnapshotStore(dir: string) {
  const pathOf = (ref: string) => {
    const hex = ref.slice('sha256:'.length);
    return join(dir, hex.slice(0, 2), `${hex}.jpg`);
  };
  return {
    isRef: (ref: string) => REF.test(ref),

    async has(ref: string): Promise<boolean> {
      if (!REF.test(ref)) return false;
      return stat(pathOf(ref)).then(
        () => true,
        () => false,
      );
    },

    /** Throws unless `bytes` are a JPEG whose digest is `ref` (the reference the uploader claims). */
    check(ref: string, bytes: Buffer): void {
      if (!REF.test(ref)) throw new BadRequestError('invalid_reference', 'reference must be sha256:<64 hex digits>');
      const digest = createHash('sha256').update(bytes).digest('hex');
      if (`sha256:${digest}` !== ref) {
        throw new BadRequestError('digest_mismatch', `body has sha256:${digest}, not ${ref}`);
      }
      if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) {
        throw new BadRequestError('not_jpeg', 'body is not a JPEG image');
      }
    },

    /** Stores bytes under their digest; refuses bytes that do not match the reference the uploader claims. */
    async put(ref: string, bytes: Buffer): Promise<{ created: boolean }> {
      this.check(ref, bytes);
      const target = pathOf(ref);
      if (await this.has(ref)) return { created: false };
      await mkdir(join(target, '..'), { recursive: true, mode: 0o750 });
      // Write then rename: a crash or a full disk never leaves a half file under a valid name.
      const tmp = `${target}.${randomUUID()}.tmp`;
      try {
        // Footage is not for every local account: owner and the hub's group only.
        await writeFile(tmp, bytes, { mode: 0o640 });
        await rename(tmp, target);
      } catch (err) {
        await unlink(tmp).catch(() => undefined); // best effort: the temp name is never served
        if ((err as { code?: string }).code === 'ENOSPC') throw new StorageFullError();
        throw err;
      }
      return { created: true };
    },

    async open(ref: string): Promise<{ stream: Readable; size: number } | null> {
      if (!REF.test(ref)) return null;
      const p = pathOf(ref);
      try {
        const s = await stat(p);
        return { stream: createReadStream(p), size: s.size };
      } catch (err) {
        if ((err as { code?: string }).code === 'ENOENT') return null;
        throw err;
      }
    },

    async remove(ref: string): Promise<void> {
      if (!REF.test(ref)) return;
      await unlink(pathOf(ref)).catch((err: { code?: string }) => {
        if (err.code !== 'ENOENT') throw err;
      });
    },
  };
}
export type SnapshotStore = ReturnType<typeof createSnapshotStore>;
