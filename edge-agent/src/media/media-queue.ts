import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Backoff, sleep } from '../backoff.js';
import { errorMessage } from '../errors.js';

export function mediaRef(jpeg: Buffer): string {
  return `sha256:${createHash('sha256').update(jpeg).digest('hex')}`;
}

/** What the queue carries, by file extension: where each goes at the hub and how it is labelled. */
const KINDS = {
  jpg: { path: 'api/v1/media', contentType: 'image/jpeg', what: 'snapshot' },
  mp4: { path: 'api/v1/clips', contentType: 'video/mp4', what: 'clip' },
} as const;
type MediaExt = keyof typeof KINDS;
const extOf = (name: string): MediaExt | null => (name.endsWith('.jpg') ? 'jpg' : name.endsWith('.mp4') ? 'mp4' : null);

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
 * Durable queue of snapshots and clips waiting for upload: one file each, named by its hash, written atomically,
 * deleted after the hub answered 2xx. Bounded: when full, the oldest files go (an event without its picture is better
 * than no room for the next one). Uploads run in the background with backoff, oldest first, and never block events.
 */
export class MediaQueue {
  private stopped = false;
  private readonly wake = new AbortController();
  private wakeResolve: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  /** Ends the current backoff wait early (`retryNow`); a new one for each wait. */
  private backoffWait: AbortController | null = null;
  private backoff: Backoff | null = null;
  uploaded = 0;
  dropped = 0;

  constructor(private readonly options: MediaQueueOptions) {
    mkdirSync(options.dir, { recursive: true });
    // A write cut short by a crash leaves only a temporary name, never an upload: clear them.
    for (const name of readdirSync(options.dir)) {
      if (name.endsWith('.tmp')) rmSync(join(options.dir, name), { force: true });
    }
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

  /**
   * Moves a finished file (a clip, already complete under a temporary name on the same file system) into the queue
   * under its hash and returns its reference. The rename is the commit: the queue never sees a partial file.
   */
  async adopt(path: string, ext: 'mp4'): Promise<{ ref: string; bytes: number }> {
    const bytes = await readFile(path);
    const ref = mediaRef(bytes);
    this.makeRoom(bytes.length);
    renameSync(path, join(this.options.dir, `${ref.slice(7)}.${ext}`));
    this.wakeResolve?.();
    return { ref, bytes: bytes.length };
  }

  /** Bytes waiting, every kind together. */
  get bytes(): number {
    return this.files().reduce((sum, f) => sum + f.size, 0);
  }

  private files(): Array<{ name: string; size: number; mtime: number }> {
    return readdirSync(this.options.dir)
      .filter((f) => extOf(f) !== null)
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
      this.options.logger.warn({ file: f.name }, 'media queue full: dropped the oldest file');
    }
  }

  start(): void {
    if (!this.options.hub) return;
    this.loop ??= this.run();
  }

  private async run(): Promise<void> {
    const hub = this.options.hub!;
    const backoff = new Backoff(this.options.backoffMinMs ?? 1000, this.options.backoffMaxMs ?? 60_000);
    this.backoff = backoff;
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
      const kind = KINDS[extOf(next.name)!];
      try {
        const body = readFileSync(join(this.options.dir, next.name));
        const res = await fetch(new URL(`${kind.path}/${ref}`, hub.url.endsWith('/') ? hub.url : `${hub.url}/`), {
          method: 'PUT',
          headers: { 'Content-Type': kind.contentType, Authorization: `Bearer ${hub.token}` },
          body,
          signal: AbortSignal.any([AbortSignal.timeout(this.options.uploadTimeoutMs ?? 15_000), this.wake.signal]),
        });
        if (res.status >= 200 && res.status < 300) {
          rmSync(join(this.options.dir, next.name), { force: true });
          this.uploaded += 1;
          if (kind.what === 'clip') this.options.logger.info({ ref, bytes: body.length }, 'clip uploaded');
          backoff.reset();
          continue;
        }
        // A 4xx other than 408/429 will not get better by retrying the same bytes; keep it anyway, slowly.
        throw new Error(`hub answered HTTP ${res.status}`);
      } catch (err) {
        if (this.stopped) break;
        const delay = backoff.next();
        this.options.logger.warn({ ref, err: errorMessage(err), retryInMs: delay }, `${kind.what} upload failed`);
        this.backoffWait = new AbortController();
        await sleep(delay, AbortSignal.any([this.wake.signal, this.backoffWait.signal]));
        this.backoffWait = null;
      }
    }
  }

  /**
   * The way to the hub is back (the agent's MQTT link reconnected over the same uplink): retry now and from the
   * shortest delay, instead of waiting out a backoff that grew during the outage (up to `backoffMaxMs`, a minute).
   */
  retryNow(): void {
    this.backoff?.reset();
    this.backoffWait?.abort();
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
