import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { OutboxRejectedError } from '../errors.js';
import { Outbox, type OutboxItem, type OutboxOptions } from './outbox.js';

const logger = pino({ level: 'silent' });
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'outbox-spec-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const open = (dir: string, opts: Partial<OutboxOptions> = {}) =>
  Outbox.open(dir, { maxBytes: 1024 * 1024, fsync: 'batch', logger, ...opts });

function drain(outbox: Outbox): OutboxItem[] {
  const items: OutboxItem[] = [];
  for (let item = outbox.next(); item; item = outbox.next()) items.push(item);
  return items;
}
const body = (item: OutboxItem) => JSON.parse(item.payload.toString()) as { n: number; pad?: string };

describe(Outbox.name, () => {
  it('hands out events only after their fsync, in append order, events before health', async () => {
    const outbox = open(tempDir());
    const appended = outbox.append('events', { n: 1 });
    void outbox.append('health', { n: 100 });
    // The health sample is publishable at once; the event waits for its fdatasync.
    expect(drain(outbox).map((i) => [i.kind, body(i).n])).toEqual([['health', 100]]);
    await appended;
    await outbox.append('events', { n: 2 });
    expect(drain(outbox).map((i) => [i.kind, body(i).n])).toEqual([
      ['events', 1],
      ['events', 2],
    ]);
    await outbox.close();
  });

  it('keeps every unacknowledged record across a restart and forgets acknowledged ones', async () => {
    const dir = tempDir();
    const first = open(dir);
    for (let n = 1; n <= 10; n++) await first.append('events', { n });
    const items = drain(first);
    // PUBACKs out of order: 1,2,3 and 5 acknowledged; 4 is not, so 4..10 come back (5 too: the cursor is contiguous).
    for (const i of [items[0]!, items[1]!, items[2]!, items[4]!]) first.ack(i);
    await first.close();

    const second = open(dir);
    expect(drain(second).map((i) => body(i).n)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    await second.close();
  });

  it('survives a crash without close(): the cursor written by write(2) is enough', async () => {
    const dir = tempDir();
    const first = open(dir);
    for (let n = 1; n <= 5; n++) await first.append('events', { n });
    const items = drain(first);
    first.ack(items[0]!);
    first.ack(items[1]!);
    await new Promise((r) => setImmediate(r)); // the coalesced cursor write
    // No close(): like SIGKILL, only what reached the page cache counts.
    const second = open(dir);
    expect(drain(second).map((i) => body(i).n)).toEqual([3, 4, 5]);
    await second.close();
    await first.close();
  });

  it('releases a failed publish so it is sent again before newer records', async () => {
    const outbox = open(tempDir());
    for (let n = 1; n <= 3; n++) await outbox.append('events', { n });
    const [a, b] = [outbox.next()!, outbox.next()!];
    outbox.ack(a);
    outbox.release(b);
    expect(drain(outbox).map((i) => body(i).n)).toEqual([2, 3]);
    await outbox.close();
  });

  it('detects a truncated tail after a crash, skips it and keeps appending after the good records', async () => {
    const dir = tempDir();
    const first = open(dir);
    for (let n = 1; n <= 3; n++) await first.append('events', { n });
    await first.close();
    const segDir = join(dir, 'events');
    const seg = join(
      segDir,
      readdirSync(segDir).find((f) => f.endsWith('.seg'))!,
    );
    truncateSync(seg, statSync(seg).size - 5); // the third record is torn

    const second = open(dir);
    expect(drain(second).map((i) => body(i).n)).toEqual([1, 2]);
    await second.append('events', { n: 4 });
    expect(drain(second).map((i) => body(i).n)).toEqual([4]);
    await second.close();

    const third = open(dir);
    expect(drain(third).map((i) => body(i).n)).toEqual([1, 2, 4]);
    await third.close();
  });

  it('detects a corrupted record by its checksum and a zero-filled tail by its magic', async () => {
    const dir = tempDir();
    const first = open(dir);
    for (let n = 1; n <= 3; n++) await first.append('events', { n });
    await first.close();
    const segDir = join(dir, 'events');
    const seg = join(
      segDir,
      readdirSync(segDir).find((f) => f.endsWith('.seg'))!,
    );
    const bytes = readFileSync(seg);
    const recordLength = bytes.length / 3;
    bytes[recordLength * 2 - 2] = bytes[recordLength * 2 - 2]! ^ 0xff; // flip a payload byte in record 2
    writeFileSync(seg, bytes);
    appendFileSync(seg, Buffer.alloc(64));

    const second = open(dir);
    expect(drain(second).map((i) => body(i).n)).toEqual([1]);
    await second.close();
  });

  it('ignores a corrupt cursor slot and falls back to the other one', async () => {
    const dir = tempDir();
    const first = open(dir);
    for (let n = 1; n <= 4; n++) await first.append('events', { n });
    const items = drain(first);
    first.ack(items[0]!);
    await new Promise((r) => setImmediate(r));
    first.ack(items[1]!);
    await first.close(); // generation 2 in slot 0, generation 1 in slot 1
    const cursor = join(dir, 'events', 'cursor');
    const bytes = readFileSync(cursor);
    bytes[9] = bytes[9]! ^ 0xff; // tear the newest slot
    writeFileSync(cursor, bytes);
    const second = open(dir);
    // Back to the older cursor: one record more is sent again (a duplicate the hub drops by id), none is lost.
    expect(drain(second).map((i) => body(i).n)).toEqual([2, 3, 4]);
    await second.close();
  });

  it('when full drops the oldest health samples first and never an event', async () => {
    const maxBytes = 64 * 1024;
    const outbox = open(tempDir(), { maxBytes, segmentBytes: 4096 });
    const pad = 'x'.repeat(900);
    for (let n = 0; n < 40; n++) await outbox.append('health', { n, pad });
    for (let n = 0; n < 50; n++) await outbox.append('events', { n, pad });
    expect(outbox.bytes).toBeLessThanOrEqual(maxBytes);
    const stats = outbox.stats();
    expect(stats.pendingEvents).toBe(50);
    expect(stats.droppedHealth).toBeGreaterThan(0);
    const items = drain(outbox);
    const events = items.filter((i) => i.kind === 'events').map((i) => body(i).n);
    const health = items.filter((i) => i.kind === 'health').map((i) => body(i).n);
    expect(events).toEqual([...Array(50).keys()]);
    // What is left of health is the newest samples, still in order.
    expect(health).toEqual([...health].sort((a, b) => a - b));
    if (health.length > 0) expect(health.at(-1)).toBe(39);
    await outbox.close();
  });

  it('with only events left refuses new health samples, keeps accepting events and reports pressure', async () => {
    const maxBytes = 64 * 1024;
    const outbox = open(tempDir(), { maxBytes, segmentBytes: 4096 });
    const pad = 'x'.repeat(900);
    for (let n = 0; n < 80; n++) await outbox.append('events', { n, pad });
    expect(outbox.stats().pressure).toBe(true);
    await expect(outbox.append('health', { n: 1 })).rejects.toBeInstanceOf(OutboxRejectedError);
    await outbox.append('events', { n: 80, pad });
    expect(outbox.stats().pendingEvents).toBe(81);
    expect(drain(outbox).map((i) => body(i).n)).toEqual([...Array(81).keys()]);
    await outbox.close();
  });

  it('deletes segments once every record in them is acknowledged', async () => {
    const dir = tempDir();
    const outbox = open(dir, { maxBytes: 64 * 1024, segmentBytes: 4096 });
    const pad = 'x'.repeat(900);
    for (let n = 0; n < 20; n++) await outbox.append('events', { n, pad });
    const segsBefore = readdirSync(join(dir, 'events')).filter((f) => f.endsWith('.seg')).length;
    expect(segsBefore).toBeGreaterThan(3);
    for (const item of drain(outbox)) outbox.ack(item);
    expect(readdirSync(join(dir, 'events')).filter((f) => f.endsWith('.seg'))).toHaveLength(1);
    expect(outbox.stats().pendingEvents).toBe(0);
    await outbox.close();
  });

  it('refuses a message larger than the contract allows', async () => {
    const outbox = open(tempDir());
    await expect(outbox.append('events', { pad: 'x'.repeat(17 * 1024) })).rejects.toBeInstanceOf(OutboxRejectedError);
    await outbox.close();
  });
});
