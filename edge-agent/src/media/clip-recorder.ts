import { linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { EventClip } from '@camhub/shared';
import type { Logger } from 'pino';
import { Backoff, sleep } from '../backoff.js';
import type { ClipConfig } from '../config.js';
import { errorMessage } from '../errors.js';
import { type BufferedSegment, clipEndMs, segmentsToDrop, selectClip } from './clip-plan.js';
import { joinSegments, recordSegments, type SegmentEntry, type SegmentRecorder } from './ffmpeg.js';
import type { MediaQueue } from './media-queue.js';

export interface ClipRecorderDeps {
  site: string;
  camera: string;
  /** This camera's own directory (buffer/ and cuts/ go inside); on the media queue's file system. */
  dir: string;
  clip: ClipConfig;
  /** The camera's RTSP address for the configured profile; null until the camera has been reached. */
  streamUrl: () => string | null;
  media: MediaQueue;
  /** Stores the clip link durably for publishing (the outbox). */
  publish: (link: EventClip) => Promise<void>;
  logger: Logger;
  /** Shortest segment; a segment still lasts a whole GOP, since it can only start at a keyframe. */
  segmentSec?: number;
  now?: () => number;
}

interface Cut {
  event: string;
  /** The condition (type + topic) whose end ends the clip; null for a pulse, which ends at once. */
  key: string | null;
  atMs: number;
  fromMs: number;
  untilMs: number;
  dir: string;
  linked: BufferedSegment[];
  watchdog: NodeJS.Timeout;
}

/** How long past its end a clip waits for the segment that covers it (a camera gone silent) before it is cut anyway. */
const LATE_MS = 15_000;

/**
 * One camera's event clips. A copy of the camera's stream runs all the time into short segments on disk (the rolling
 * pre-event buffer, bounded by `clip.bufferBytes`, oldest first). An event start opens a cut: the segments it needs
 * are hard-linked out of the buffer as they come (so trimming the buffer never breaks a clip in progress), and once
 * the post-roll is on disk they are joined into one faststart MP4 under a temporary name, moved into the media queue
 * under its SHA-256 (the rename is the commit), and the clip's link goes to the outbox. A crash at any point leaves
 * a temporary file that the next start removes, never a partial clip under a real name.
 */
export class ClipRecorder {
  private readonly bufferDir: string;
  private readonly cutsDir: string;
  private readonly pidFile: string;
  private readonly now: () => number;
  private readonly log: Logger;
  private segments: BufferedSegment[] = [];
  private readonly cuts = new Map<string, Cut>();
  private recorder: SegmentRecorder | null = null;
  private stopped = false;
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  /** Joins run one at a time per camera: each is short, and a burst of events must not fork a burst of ffmpegs. */
  private joins: Promise<void> = Promise.resolve();
  private largestSegment = 0;
  clipsCut = 0;

  constructor(private readonly deps: ClipRecorderDeps) {
    this.bufferDir = join(deps.dir, 'buffer');
    this.cutsDir = join(deps.dir, 'cuts');
    this.pidFile = join(deps.dir, 'recorder.pid');
    this.now = deps.now ?? Date.now;
    this.log = deps.logger.child({ part: 'clips', camera: deps.camera });
  }

  start(): void {
    if (this.loop) return;
    this.killLeftoverRecorder();
    // Segments from a previous run have no known wall time, and cuts in progress died with it: start clean.
    rmSync(this.bufferDir, { recursive: true, force: true });
    rmSync(this.cutsDir, { recursive: true, force: true });
    mkdirSync(this.bufferDir, { recursive: true });
    mkdirSync(this.cutsDir, { recursive: true });
    this.loop = this.run();
  }

  /** Bytes of the rolling buffer on disk now, the segment being written included. */
  bufferBytes(): number {
    let total = 0;
    for (const name of safeList(this.bufferDir)) total += fileSize(join(this.bufferDir, name));
    return total;
  }

  /**
   * An ffmpeg a killed agent left behind (its own process group outlives us) still writes into our buffer: found by
   * the pid file and recognised by its command line naming our directory.
   */
  private killLeftoverRecorder(): void {
    let pid: number;
    try {
      pid = Number(readFileSync(this.pidFile, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ err: errorMessage(err) }, 'pid file');
      return;
    }
    if (!Number.isInteger(pid) || pid <= 1) return;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.debug({ err: errorMessage(err) }, 'no /proc');
      return;
    }
    if (!cmdline.includes(this.bufferDir)) return;
    try {
      process.kill(-pid, 'SIGKILL');
      this.log.warn({ pid }, 'killed the clip buffer ffmpeg a previous run left behind');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  private async run(): Promise<void> {
    const backoff = new Backoff(1000, 30_000);
    while (!this.stopped) {
      const url = this.deps.streamUrl();
      if (!url) {
        await sleep(1000, this.abort.signal);
        continue;
      }
      const startedAt = this.now();
      this.recorder = recordSegments(url, this.bufferDir, {
        segmentSec: this.deps.segmentSec ?? 1,
        ioTimeoutMs: 10_000,
        onSegment: (entry) => this.onSegment(entry),
      });
      void this.recorder.pid.then((pid) => {
        try {
          if (pid) writeFileSync(this.pidFile, String(pid));
        } catch (err) {
          this.log.warn({ err: errorMessage(err) }, 'clip buffer pid file not written');
        }
      });
      this.log.info({ profile: this.deps.clip.profile }, 'clip buffer recording');
      const why = await this.recorder.exited;
      this.recorder = null;
      if (this.stopped) break;
      // The segment ffmpeg was writing when it stopped is complete as far as it goes, but unlisted: drop it.
      this.dropUnlisted();
      if (this.now() - startedAt > 60_000) backoff.reset();
      const delay = backoff.next();
      this.log.warn({ err: why, retryInMs: delay }, 'clip buffer stopped; restarting');
      await sleep(delay, this.abort.signal);
    }
  }

  private dropUnlisted(): void {
    const listed = new Set(this.segments.map((s) => basename(s.file)));
    for (const name of safeList(this.bufferDir)) {
      if (!listed.has(name)) rmSync(join(this.bufferDir, name), { force: true });
    }
  }

  private onSegment(entry: SegmentEntry): void {
    const now = this.now();
    const bytes = fileSize(entry.file);
    if (bytes === 0) return;
    // ffmpeg lists a segment the moment the next keyframe closes it: now is its end on our clock.
    const segment: BufferedSegment = {
      file: entry.file,
      bytes,
      startMs: now - Math.round((entry.endSec - entry.startSec) * 1000),
      endMs: now,
    };
    this.largestSegment = Math.max(this.largestSegment, bytes);
    this.segments.push(segment);
    for (const cut of this.cuts.values()) this.link(cut, segment);
    this.trim(now);
    for (const cut of [...this.cuts.values()]) if (segment.endMs >= cut.untilMs) this.finish(cut);
  }

  /**
   * The buffer's budget counts the segment ffmpeg is writing too: room for twice the largest one seen is kept free
   * (a GOP's size varies with the scene).
   */
  private trim(now: number): void {
    const keepMs = (this.deps.clip.preSec + 10) * 1000;
    const budget = Math.max(0, this.deps.clip.bufferBytes - 2 * this.largestSegment);
    const drop = segmentsToDrop(this.segments, budget, now, keepMs);
    if (drop.length === 0) return;
    for (const s of drop) rmSync(s.file, { force: true });
    this.segments = this.segments.slice(drop.length);
  }

  private link(cut: Cut, segment: BufferedSegment): void {
    if (segment.endMs <= cut.fromMs || segment.startMs >= cut.untilMs) return;
    const target = join(cut.dir, basename(segment.file));
    try {
      linkSync(segment.file, target);
      cut.linked.push({ ...segment, file: target });
    } catch (err) {
      // Trimmed between its listing and now, or a file system without hard links: the clip is shorter, not wrong.
      this.log.warn({ err: errorMessage(err), event: cut.event }, 'segment not kept for a clip');
    }
  }

  /** An event started: its clip begins `preSec` before it. `key` null: a pulse, whose clip ends `postSec` after. */
  begin(event: string, atMs: number, key: string | null): void {
    if (this.stopped) return;
    const clip = this.deps.clip;
    const dir = join(this.cutsDir, event);
    mkdirSync(dir, { recursive: true });
    const untilMs = clipEndMs(atMs, key === null ? atMs : null, clip);
    const cut: Cut = {
      event,
      key,
      atMs,
      fromMs: atMs - clip.preSec * 1000,
      untilMs,
      dir,
      linked: [],
      watchdog: setTimeout(() => this.finish(cut), Math.max(0, untilMs - this.now()) + LATE_MS),
    };
    cut.watchdog.unref();
    this.cuts.set(event, cut);
    for (const s of this.segments) this.link(cut, s);
    this.log.debug({ event, fromMs: cut.fromMs, untilMs }, 'clip started');
  }

  /** The condition `key` ended at `atMs`: the clip of its latest start ends `postSec` later. */
  end(key: string, atMs: number): void {
    const cut = [...this.cuts.values()].reverse().find((c) => c.key === key);
    if (!cut) return;
    cut.key = null;
    cut.untilMs = clipEndMs(cut.atMs, atMs, this.deps.clip);
    clearTimeout(cut.watchdog);
    cut.watchdog = setTimeout(() => this.finish(cut), Math.max(0, cut.untilMs - this.now()) + LATE_MS);
    cut.watchdog.unref();
    const newest = this.segments[this.segments.length - 1];
    if (newest && newest.endMs >= cut.untilMs) this.finish(cut);
  }

  private finish(cut: Cut): void {
    if (this.cuts.get(cut.event) !== cut) return;
    this.cuts.delete(cut.event);
    clearTimeout(cut.watchdog);
    this.joins = this.joins
      .then(() => this.cut(cut))
      .catch((err: unknown) => {
        this.log.warn({ err: errorMessage(err), event: cut.event }, 'clip not made');
        rmSync(cut.dir, { recursive: true, force: true });
      });
  }

  private async cut(cut: Cut): Promise<void> {
    if (this.stopped) return;
    const selection = selectClip(cut.linked, cut.fromMs, cut.untilMs, cut.atMs);
    if (!selection) {
      this.log.warn({ event: cut.event }, 'no video around this event: no clip');
      rmSync(cut.dir, { recursive: true, force: true });
      return;
    }
    const tmp = join(cut.dir, 'clip.mp4.tmp');
    this.log.info({ event: cut.event, segments: selection.files.length }, 'clip cutting');
    await joinSegments(selection.files, tmp, {
      durationSec: selection.durationMs / 1000,
      timeoutMs: 30_000,
    });
    if (this.stopped) return;
    const { ref, bytes } = await this.deps.media.adopt(tmp, 'mp4');
    rmSync(cut.dir, { recursive: true, force: true });
    const link: EventClip = {
      v: 1,
      site: this.deps.site,
      camera: this.deps.camera,
      event: cut.event,
      clip: ref,
      startAt: new Date(selection.startMs).toISOString(),
      durationMs: Math.max(1, Math.round(selection.durationMs)),
      bytes,
      at: new Date(this.now()).toISOString(),
    };
    await this.deps.publish(link);
    this.clipsCut += 1;
    this.log.info({ event: cut.event, ref, bytes, durationMs: link.durationMs, startAt: link.startAt }, 'clip stored');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    for (const cut of this.cuts.values()) clearTimeout(cut.watchdog);
    this.cuts.clear();
    this.recorder?.stop();
    await this.loop;
    await this.joins;
    rmSync(this.pidFile, { force: true });
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch (err) {
    // Trimmed or replaced while we looked: it counts as nothing.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}
