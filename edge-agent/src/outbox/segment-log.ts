import {
  closeSync,
  fdatasync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Logger } from 'pino';
import { OutboxWriteError } from '../errors.js';
import { encodeRecord, HEADER_BYTES, scanRecords } from './record.js';

/** `writing`: on disk but not yet fsynced, so not yet publishable (an event is published only once durable). */
export type RecordState = 'writing' | 'pending' | 'inflight' | 'acked' | 'dropped';

/** Where a record lives; the payload stays on disk and is read when it is published. */
export interface LogRecord {
  readonly seg: number;
  readonly offset: number;
  /** Header + payload bytes. */
  readonly length: number;
  state: RecordState;
}

interface Segment {
  readonly no: number;
  size: number;
  readFd: number | null;
}

const CURSOR_SLOT = 32;

function writeError(err: unknown, doing: string): OutboxWriteError {
  const code = (err as NodeJS.ErrnoException).code;
  const what = code === 'ENOSPC' ? 'the disk is full' : (err as Error).message;
  return new OutboxWriteError(code, `${doing}: ${what}; the record was not stored`, { cause: err });
}
const segName = (no: number) => `${String(no).padStart(12, '0')}.seg`;

/**
 * One append-only log: numbered segment files plus a cursor file naming the first record not yet acknowledged.
 * The cursor has two checksummed slots written alternately, so a torn cursor write falls back to the previous one
 * (at worst a few records are sent twice, which the hub deduplicates by event id).
 */
export class SegmentLog {
  private readonly segments = new Map<number, Segment>();
  private records: LogRecord[] = [];
  private head = 0;
  private sendIdx = 0;
  private readonly retry: LogRecord[] = [];
  private activeFd: number | null = null;
  private activeNo = 0;
  private cursorFd: number | null = null;
  private cursorGen = 0;
  private cursorDirty = false;
  private cursorTimer: NodeJS.Immediate | null = null;
  /** A failed write left bytes at the end of the active segment that could not be cut off. */
  private tornTail = false;
  private lastCursorError = 0;
  /** Corrupt or truncated records found when opening; reported in logs. */
  recovered = { records: 0, skippedBytes: 0, corruptSegments: 0 };

  constructor(
    readonly dir: string,
    private readonly segmentBytes: number,
    private readonly logger: Logger,
  ) {}

  open(): void {
    mkdirSync(this.dir, { recursive: true });
    const cursorPath = join(this.dir, 'cursor');
    closeSync(openSync(cursorPath, 'a'));
    this.cursorFd = openSync(cursorPath, 'r+');
    const cursor = this.readCursor();
    const numbers = readdirSync(this.dir)
      .filter((f) => /^\d{12}\.seg$/.test(f))
      .map((f) => Number(f.slice(0, 12)))
      .sort((a, b) => a - b);
    for (const no of numbers) {
      if (cursor && no < cursor.seg) {
        rmSync(join(this.dir, segName(no)), { force: true });
        continue;
      }
      const path = join(this.dir, segName(no));
      const buf = readFileSync(path);
      let valid = 0;
      const start = cursor && no === cursor.seg ? Math.min(cursor.offset, buf.length) : 0;
      valid = start;
      for (const r of scanRecords(buf, start)) {
        if (!r.ok) {
          this.recovered.skippedBytes += buf.length - r.offset;
          this.recovered.corruptSegments += 1;
          this.logger.warn(
            { segment: path, offset: r.offset, reason: r.reason, bytes: buf.length - r.offset },
            'outbox: corrupt or truncated record skipped (crash during write?)',
          );
          break;
        }
        this.records.push({ seg: no, offset: r.offset, length: r.length, state: 'pending' });
        valid = r.offset + r.length;
      }
      if (valid < buf.length) {
        // Cut the bad tail so that new records never follow garbage.
        const fd = openSync(path, 'r+');
        ftruncateSync(fd, valid);
        fsyncSync(fd);
        closeSync(fd);
      }
      this.segments.set(no, { no, size: valid, readFd: null });
    }
    this.recovered.records = this.records.length;
    const last = numbers.filter((n) => this.segments.has(n)).at(-1);
    this.openActive(last ?? (cursor ? cursor.seg : 1));
  }

  private openActive(no: number): void {
    // Open the new segment first: if that fails (disk full), the current one stays usable.
    const fd = openSync(join(this.dir, segName(no)), 'a');
    if (this.activeFd !== null) {
      fsyncSync(this.activeFd);
      closeSync(this.activeFd);
    }
    this.activeNo = no;
    this.activeFd = fd;
    if (!this.segments.has(no)) this.segments.set(no, { no, size: 0, readFd: null });
  }

  /** Appends one payload (write(2) only: it survives a process crash; `sync()` makes it survive power loss). */
  append(payload: Buffer, awaitSync: boolean): LogRecord {
    const active = this.segments.get(this.activeNo)!;
    try {
      if (this.tornTail || (active.size > 0 && active.size + HEADER_BYTES + payload.length > this.segmentBytes)) {
        this.openActive(this.activeNo + 1);
        this.tornTail = false;
      }
    } catch (err) {
      throw writeError(err, 'opening a new outbox segment');
    }
    const seg = this.segments.get(this.activeNo)!;
    const bytes = encodeRecord(payload);
    let written = 0;
    try {
      while (written < bytes.length) written += writeSync(this.activeFd!, bytes, written, bytes.length - written);
    } catch (err) {
      // A short write (disk full) leaves part of a record at the end of the segment. The file is opened for append,
      // so the next record would land after those bytes while its offset says otherwise, and a restart would stop
      // reading at the torn record and cut every later one. Cut the partial record off now; if even that fails,
      // never write behind it again (the next record opens a new segment).
      if (written > 0) {
        try {
          ftruncateSync(this.activeFd!, seg.size);
        } catch (truncErr) {
          this.tornTail = true;
          this.logger.error({ err: (truncErr as Error).message }, 'outbox: could not cut a torn record off');
        }
      }
      throw writeError(err, 'appending to the outbox');
    }
    const state = awaitSync ? 'writing' : 'pending';
    const record: LogRecord = { seg: seg.no, offset: seg.size, length: bytes.length, state };
    seg.size += bytes.length;
    this.records.push(record);
    return record;
  }

  /** fdatasync of the active segment (older segments were fsynced when they were closed). */
  sync(): Promise<void> {
    const fd = this.activeFd;
    if (fd === null) return Promise.resolve();
    return new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
  }

  read(record: LogRecord): Buffer {
    const seg = this.segments.get(record.seg);
    if (!seg) throw new Error(`outbox segment ${record.seg} is gone`);
    seg.readFd ??= openSync(join(this.dir, segName(seg.no)), 'r');
    const buf = Buffer.allocUnsafe(record.length - HEADER_BYTES);
    readSync(seg.readFd, buf, 0, buf.length, record.offset + HEADER_BYTES);
    return buf;
  }

  /** The next record to publish, oldest first (records whose publish failed come back first). */
  next(): LogRecord | null {
    while (this.retry.length > 0) {
      const r = this.retry.shift()!;
      if (r.state === 'pending') {
        r.state = 'inflight';
        return r;
      }
    }
    while (this.sendIdx < this.records.length) {
      const r = this.records[this.sendIdx]!;
      // Order within the log is the publish order: nothing overtakes a record still waiting for its fsync.
      if (r.state === 'writing') return null;
      this.sendIdx += 1;
      if (r.state === 'pending') {
        r.state = 'inflight';
        return r;
      }
    }
    return null;
  }

  /** A publish failed before PUBACK: send the record again, before newer ones. */
  release(record: LogRecord): void {
    if (record.state !== 'inflight') return;
    record.state = 'pending';
    this.retry.push(record);
    this.retry.sort((a, b) => a.seg - b.seg || a.offset - b.offset);
  }

  /** PUBACK received: the record may go. The cursor moves over every leading acknowledged record. */
  ack(record: LogRecord): void {
    if (record.state === 'dropped') return;
    record.state = 'acked';
    let moved = false;
    while (this.head < this.records.length && this.records[this.head]!.state === 'acked') {
      this.head += 1;
      moved = true;
    }
    if (moved) this.afterHeadMoved();
  }

  private afterHeadMoved(): void {
    if (this.head > 1024 && this.head * 2 > this.records.length) {
      this.records = this.records.slice(this.head);
      this.sendIdx = Math.max(0, this.sendIdx - this.head);
      this.head = 0;
    }
    this.sendIdx = Math.max(this.sendIdx, this.head);
    const first = this.records[this.head];
    const cursorSeg = first ? first.seg : this.activeNo;
    for (const seg of [...this.segments.values()]) {
      if (seg.no < cursorSeg) this.deleteSegment(seg);
    }
    this.scheduleCursorWrite();
  }

  private deleteSegment(seg: Segment): void {
    if (seg.readFd !== null) closeSync(seg.readFd);
    this.segments.delete(seg.no);
    rmSync(join(this.dir, segName(seg.no)), { force: true });
  }

  /**
   * Drops the oldest segment's unacknowledged records (health samples under pressure). When only the active
   * segment is left it is rolled first, so the dropped records' bytes are really freed.
   */
  dropOldest(): number {
    const oldest = Math.min(...this.segments.keys());
    if (oldest === this.activeNo) {
      const active = this.segments.get(oldest)!;
      if (active.size === 0) return 0;
      this.openActive(this.activeNo + 1);
    }
    let dropped = 0;
    for (let i = this.head; i < this.records.length; i++) {
      const r = this.records[i]!;
      if (r.seg !== oldest) break;
      if (r.state !== 'acked' && r.state !== 'dropped') dropped += 1;
      r.state = 'dropped';
    }
    while (this.head < this.records.length && this.records[this.head]!.seg === oldest) this.head += 1;
    this.deleteSegment(this.segments.get(oldest)!);
    this.afterHeadMoved();
    return dropped;
  }

  get bytes(): number {
    let total = 0;
    for (const seg of this.segments.values()) total += seg.size;
    return total;
  }

  /** Records appended and not yet acknowledged (in flight included). */
  get pending(): number {
    let n = 0;
    for (let i = this.head; i < this.records.length; i++) {
      const s = this.records[i]!.state;
      if (s !== 'acked' && s !== 'dropped') n += 1;
    }
    return n;
  }

  private readCursor(): { seg: number; offset: number } | null {
    const buf = Buffer.alloc(CURSOR_SLOT * 2);
    readSync(this.cursorFd!, buf, 0, buf.length, 0);
    let best: { gen: number; seg: number; offset: number } | null = null;
    for (let slot = 0; slot < 2; slot++) {
      const b = buf.subarray(slot * CURSOR_SLOT, slot * CURSOR_SLOT + 24);
      const gen = Number(b.readBigUInt64LE(0));
      if (gen === 0 || crc32(b.subarray(0, 20)) !== b.readUInt32LE(20)) continue;
      if (!best || gen > best.gen)
        best = { gen, seg: b.readUInt32LE(8), offset: Number(b.readBigUInt64LE(12) & 0xffffffffn) };
    }
    this.cursorGen = best?.gen ?? 0;
    return best ? { seg: best.seg, offset: best.offset } : null;
  }

  private scheduleCursorWrite(): void {
    this.cursorDirty = true;
    // Coalesce: a burst of PUBACKs costs one cursor write, not one each.
    this.cursorTimer ??= setImmediate(() => {
      this.cursorTimer = null;
      this.writeCursor();
    });
  }

  /** write(2) into the page cache survives SIGKILL; the periodic flush() fsyncs it for power loss. */
  writeCursor(): void {
    if (!this.cursorDirty || this.cursorFd === null) return;
    this.cursorDirty = false;
    const first = this.records[this.head];
    const seg = first ? first.seg : this.activeNo;
    const offset = first ? first.offset : (this.segments.get(this.activeNo)?.size ?? 0);
    this.cursorGen += 1;
    const b = Buffer.alloc(CURSOR_SLOT);
    b.writeBigUInt64LE(BigInt(this.cursorGen), 0);
    b.writeUInt32LE(seg, 8);
    b.writeBigUInt64LE(BigInt(offset), 12);
    b.writeUInt32LE(crc32(b.subarray(0, 20)), 20);
    try {
      writeSync(this.cursorFd, b, 0, CURSOR_SLOT, (this.cursorGen % 2) * CURSOR_SLOT);
    } catch (err) {
      // The other slot still names an older cursor: at worst a few records are sent again after a restart.
      // Try again with the next acknowledgement or flush; never crash the agent over it.
      this.cursorDirty = true;
      this.cursorGen -= 1;
      this.logCursorError(err);
    }
  }

  /** Makes the cursor survive power loss too (called on a timer, not per acknowledgement). */
  flushCursor(): void {
    if (this.cursorFd === null) return;
    try {
      if (this.cursorDirty) this.writeCursor();
      fsyncSync(this.cursorFd);
    } catch (err) {
      this.logCursorError(err);
    }
  }

  private logCursorError(err: unknown): void {
    const now = Date.now();
    if (now - this.lastCursorError < 10_000) return;
    this.lastCursorError = now;
    this.logger.error({ err: (err as Error).message }, 'outbox: cursor not written; records may be sent again');
  }

  close(): void {
    if (this.cursorTimer) clearImmediate(this.cursorTimer);
    this.cursorTimer = null;
    this.writeCursor();
    this.flushCursor();
    if (this.cursorFd !== null) closeSync(this.cursorFd);
    this.cursorFd = null;
    if (this.activeFd !== null) {
      fsyncSync(this.activeFd);
      closeSync(this.activeFd);
    }
    this.activeFd = null;
    for (const seg of this.segments.values()) {
      if (seg.readFd !== null) closeSync(seg.readFd);
      seg.readFd = null;
    }
  }
}
