import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { MAX_MESSAGE_BYTES } from '@camhub/shared';
import type { Logger } from 'pino';
import { OutboxRejectedError } from '../errors.js';
import { type LogRecord, SegmentLog } from './segment-log.js';

export type OutboxKind = 'events' | 'health' | 'clips';
/** Kinds never dropped and fsync'ed before publishing: an event, and the link to its clip. */
const DURABLE: readonly OutboxKind[] = ['events', 'clips'];

export interface OutboxItem {
  readonly kind: OutboxKind;
  readonly record: LogRecord;
  /** The JSON message as appended; its topic is derived from it when published. */
  readonly payload: Buffer;
}

export interface OutboxOptions {
  maxBytes: number;
  /** `batch`: events are fdatasync'ed (one call per batch) before they may be published. `none`: write(2) only. */
  fsync: 'batch' | 'none';
  logger: Logger;
  /** Defaults to maxBytes/16 within 4 KiB..1 MiB: dropping one health segment frees at most a sixteenth. */
  segmentBytes?: number;
}

export interface OutboxStats {
  bytes: number;
  maxBytes: number;
  pendingEvents: number;
  pendingClips: number;
  pendingHealth: number;
  droppedHealth: number;
  pressure: boolean;
}

interface Waiter {
  kind: OutboxKind;
  record: LogRecord;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Store-and-forward outbox: every event and health sample goes to disk before it is published and leaves only after
 * its PUBACK. One log per kind, so that health samples (droppable) never share a segment with events or clip links
 * (never dropped).
 * Emits `ready` when records became publishable.
 */
export class Outbox extends EventEmitter<{ ready: [] }> {
  private readonly logs: Record<OutboxKind, SegmentLog>;
  private waiting: Waiter[] = [];
  private syncing = false;
  private syncScheduled = false;
  private droppedHealth = 0;
  private pressure = false;
  private lastPressureLog = 0;
  private readonly flushTimer: NodeJS.Timeout;

  private constructor(
    dir: string,
    private readonly options: OutboxOptions,
  ) {
    super();
    const segmentBytes =
      options.segmentBytes ?? Math.max(4096, Math.min(1024 * 1024, Math.floor(options.maxBytes / 16)));
    this.logs = {
      events: new SegmentLog(join(dir, 'events'), segmentBytes, options.logger),
      health: new SegmentLog(join(dir, 'health'), segmentBytes, options.logger),
      // Its own log: a clip link is published under its own topic, and the log decides the topic.
      clips: new SegmentLog(join(dir, 'clips'), segmentBytes, options.logger),
    };
    this.flushTimer = setInterval(() => {
      for (const log of Object.values(this.logs)) log.flushCursor();
    }, 1000);
    this.flushTimer.unref();
  }

  static open(dir: string, options: OutboxOptions): Outbox {
    const outbox = new Outbox(dir, options);
    for (const [kind, log] of Object.entries(outbox.logs)) {
      log.open();
      if (log.recovered.records > 0 || log.recovered.skippedBytes > 0) {
        options.logger.info({ kind, ...log.recovered }, 'outbox: recovered records from disk');
      }
    }
    return outbox;
  }

  /**
   * Appends a message. Resolves once it is durable by the fsync policy (events) or written (health).
   * Rejects with OutboxRejectedError for a health sample when only events are left and the box is full.
   */
  append(kind: OutboxKind, message: unknown): Promise<void> {
    const payload = Buffer.from(JSON.stringify(message));
    if (payload.length > MAX_MESSAGE_BYTES) {
      return Promise.reject(
        new OutboxRejectedError(`${kind} message is ${payload.length} bytes (max ${MAX_MESSAGE_BYTES})`),
      );
    }

    if (!this.makeRoom(kind, payload.length + 12)) {
      this.droppedHealth += 1;
      return Promise.reject(new OutboxRejectedError('outbox is full of events: health sample not stored'));
    }
    const awaitSync = DURABLE.includes(kind) && this.options.fsync === 'batch';
    let record: LogRecord;
    try {
      record = this.logs[kind].append(payload, awaitSync);
    } catch (err) {
      // Disk full or an I/O error: a rejected promise, never a throw (callers on timers would crash the agent).
      return Promise.reject(err);
    }
    if (!awaitSync) {
      this.emit('ready');
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ kind, record, resolve, reject });
      this.scheduleSync();
    });
  }

  /** Health gives way to events; events are never dropped, even past the bound (then `pressure` is reported). */
  private makeRoom(kind: OutboxKind, need: number): boolean {
    const max = this.options.maxBytes;
    while (this.bytes + need > max && this.logs.health.bytes > 0) {
      const dropped = this.logs.health.dropOldest();
      this.droppedHealth += dropped;
      this.options.logger.warn(
        { dropped, bytes: this.bytes, maxBytes: max },
        'outbox full: dropped oldest health samples',
      );
    }
    const fits = this.bytes + need <= max;
    if (fits) {
      if (this.pressure && this.bytes + need < max * 0.9) this.pressure = false;
      return true;
    }
    this.pressure = true;
    const now = Date.now();
    if (now - this.lastPressureLog > 10_000) {
      this.lastPressureLog = now;
      this.options.logger.warn(
        { bytes: this.bytes, maxBytes: max, pendingEvents: this.logs.events.pending },
        'outbox full of events: refusing health samples, still keeping every event',
      );
    }
    return DURABLE.includes(kind);
  }

  private scheduleSync(): void {
    if (this.syncScheduled || this.syncing) return;
    this.syncScheduled = true;
    setImmediate(() => {
      this.syncScheduled = false;
      void this.runSync();
    });
  }

  /** Group commit: every event appended while the previous fdatasync ran shares the next one. */
  private async runSync(): Promise<void> {
    if (this.syncing || this.waiting.length === 0) return;
    this.syncing = true;
    const batch = this.waiting;
    this.waiting = [];
    try {
      const kinds = new Set(batch.map((w) => w.kind));
      for (const kind of kinds) await this.logs[kind].sync();
      for (const w of batch) if (w.record.state === 'writing') w.record.state = 'pending';
      for (const w of batch) w.resolve();
      this.emit('ready');
    } catch (err) {
      // The bytes may or may not be on disk; publishing is still correct (the write succeeded), durability unknown.
      this.options.logger.error({ err }, 'outbox: fdatasync failed');
      for (const w of batch) if (w.record.state === 'writing') w.record.state = 'pending';
      for (const w of batch) w.reject(err);
      this.emit('ready');
    } finally {
      this.syncing = false;
      if (this.waiting.length > 0) this.scheduleSync();
    }
  }

  /** The next message to publish: events first (they matter more), each log in append order. */
  next(): OutboxItem | null {
    for (const kind of ['events', 'clips', 'health'] as const) {
      const record = this.logs[kind].next();
      if (record) return { kind, record, payload: this.logs[kind].read(record) };
    }
    return null;
  }

  ack(item: OutboxItem): void {
    this.logs[item.kind].ack(item.record);
  }

  release(item: OutboxItem): void {
    this.logs[item.kind].release(item.record);
  }

  get bytes(): number {
    return this.logs.events.bytes + this.logs.clips.bytes + this.logs.health.bytes;
  }

  stats(): OutboxStats {
    return {
      bytes: this.bytes,
      maxBytes: this.options.maxBytes,
      pendingEvents: this.logs.events.pending,
      pendingClips: this.logs.clips.pending,
      pendingHealth: this.logs.health.pending,
      droppedHealth: this.droppedHealth,
      pressure: this.pressure,
    };
  }

  /** Waits for outstanding fsyncs, then writes and fsyncs the cursors. */
  async close(): Promise<void> {
    clearInterval(this.flushTimer);
    while (this.syncing || this.waiting.length > 0 || this.syncScheduled) {
      await new Promise((r) => setTimeout(r, 5));
    }
    for (const log of Object.values(this.logs)) log.close();
  }
}
