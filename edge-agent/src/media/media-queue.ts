import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Backoff, sleep } from '../backoff.js';
import { errorMessage } from '../errors.js';

export function mediaRef(jpeg: Buffer): string {
  return `sha256:${createHash('sha256').update(jpeg).digest('hex')}`;
}

export interface MediaQueueOptions {
  dir: string;
  maxBytes: number;
  hub?: { url: string; token: string };
  logger: Logger;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  uploadTimeoutMs?: number;
}

/**
 * Durable queue of snapshots waiting for upload: one file per JPEG named by its hash, written atomically, deleted
 * after the hub answered 2xx. Bounded: when full, the oldest snapshots go (an event without its picture is better
 * than no room for the next one). Uploads run in the background with backoff and never block events.
 */
export class MediaQueue {
  private stopped = false;
  private readonly wake = new AbortController();
  private wakeResolve: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  uploaded = 0;
  dropped = 0;

  constructor(private readonly options: MediaQueueOptions) {
    mkdirSync(options.dir, { recursive: true });
  }

  /** Stores the JPEG for upload and returns its reference. */
  put(jpeg: Buffer): string {
    const ref = mediaRef(jpeg);
    const name = `${ref.slice(7)}.jpg`;
    const path = join(this.options.dir, name);
    try {
      statSync(path);
      return ref; // Same picture already queued: uploads are idempotent by hash.
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.makeRoom(jpeg.length);
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, jpeg);
    renameSync(tmp, path);
    this.wakeResolve?.();
    return ref;
  }

  private files(): Array<{ name: string; size: number; mtime: number }> {
    return readdirSync(this.options.dir)
      .filter((f) => f.endsWith('.jpg'))
      .map((name) => {
        const s = statSync(join(this.options.dir, name));
        return { name, size: s.size, mtime: s.mtimeMs };
      })
      .sort((a, b) => a.mtime - b.mtime);
  }

  private makeRoom(need: number): void {
    const files = this.files();
    let total = files.reduce((sum, f) => sum + f.size, 0);
    for (const f of files) {
      if (total + need <= this.options.maxBytes) break;
      rmSync(join(this.options.dir, f.name), { force: true });
      total -= f.size;
      this.dropped += 1;
      this.options.logger.warn({ file: f.name }, 'media queue full: dropped the oldest snapshot');
    }
  }

  start(): void {
    if (!this.options.hub) return;
    this.loop ??= this.run();
  }

  private async run(): Promise<void> {
    const hub = this.options.hub!;
    const backoff = new Backoff(this.options.backoffMinMs ?? 1000, this.options.backoffMaxMs ?? 60_000);
    while (!this.stopped) {
      const next = this.files()[0];
      if (!next) {
        await new Promise<void>((resolve) => {
          this.wakeResolve = resolve;
          setTimeout(resolve, 5000).unref();
        });
        this.wakeResolve = null;
        continue;
      }
      const ref = `sha256:${next.name.slice(0, -4)}`;
      try {
        const body = readFileSync(join(this.options.dir, next.name));
        const res = await fetch(new URL(`api/v1/media/${ref}`, hub.url.endsWith('/') ? hub.url : `${hub.url}/`), {
          method: 'PUT',
          headers: { 'Content-Type': 'image/jpeg', Authorization: `Bearer ${hub.token}` },
          body,
          signal: AbortSignal.any([AbortSignal.timeout(this.options.uploadTimeoutMs ?? 15_000), this.wake.signal]),
        });
        if (res.status >= 200 && res.status < 300) {
          rmSync(join(this.options.dir, next.name), { force: true });
          this.uploaded += 1;
          backoff.reset();
          continue;
        }
        // A 4xx other than 408/429 will not get better by retrying the same bytes; keep it anyway, slowly.
        throw new Error(`hub answered HTTP ${res.status}`);
      } catch (err) {
        if (this.stopped) break;
        const delay = backoff.next();
        this.options.logger.warn({ ref, err: errorMessage(err), retryInMs: delay }, 'snapshot upload failed');
        await sleep(delay, this.wake.signal);
      }
    }
  }

  get pending(): number {
    return this.files().length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake.abort();
    this.wakeResolve?.();
    await this.loop;
  }
}
