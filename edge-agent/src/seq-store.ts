import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Per-camera `seq` counters that survive restarts and crashes. Numbers are reserved ahead in blocks: the file always
 * holds a value no issued number has reached, so a crash leaves a gap (visible to the hub) but never a reuse. A clean
 * close writes the exact next value, so a normal restart continues without a gap.
 */
export class SeqStore {
  private readonly next = new Map<string, number>();
  private readonly reserved = new Map<string, number>();

  constructor(
    private readonly dir: string,
    private readonly blockSize = 1000,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  private file(camera: string): string {
    return join(this.dir, `${camera}.json`);
  }

  private load(camera: string): number {
    let value = 0;
    try {
      const parsed = JSON.parse(readFileSync(this.file(camera), 'utf8')) as { next?: unknown };
      if (typeof parsed.next === 'number' && Number.isSafeInteger(parsed.next) && parsed.next >= 0) value = parsed.next;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return value;
  }

  /** tmp + fsync + rename + fsync(dir): the file holds either the old or the new value, never a torn one. */
  private write(camera: string, next: number): void {
    const tmp = `${this.file(camera)}.tmp`;
    writeFileSync(tmp, JSON.stringify({ next }));
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.file(camera));
    const dirFd = openSync(this.dir, 'r');
    fsyncSync(dirFd);
    closeSync(dirFd);
  }

  /** The next seq for `camera`, +1 per call. */
  take(camera: string): number {
    let next = this.next.get(camera);
    if (next === undefined) {
      next = this.load(camera);
      this.reserved.set(camera, next);
    }
    if (next >= this.reserved.get(camera)!) {
      const reserved = next + this.blockSize;
      this.write(camera, reserved);
      this.reserved.set(camera, reserved);
    }
    this.next.set(camera, next + 1);
    return next;
  }

  /** Clean shutdown: record the exact next value so the following run has no gap. */
  close(): void {
    for (const [camera, next] of this.next) this.write(camera, next);
  }
}
