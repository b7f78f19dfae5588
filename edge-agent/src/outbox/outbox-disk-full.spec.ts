import type * as RealFs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OutboxWriteError } from '../errors.js';
import { Outbox, type OutboxItem } from './outbox.js';

// A disk that fills up mid-write: the first call of a record writes part of it, the next fails with ENOSPC, exactly
// what write(2) does on a full filesystem. The real disk-full run (a small tmpfs) is in the fault suite.
const diskFull = { on: false };
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof RealFs>();
  let partial = false;
  return {
    ...real,
    writeSync: (fd: number, buf: Buffer, offset: number, length: number, position?: number | null) => {
      if (diskFull.on && length > 8) {
        if (!partial) {
          partial = true;
          return real.writeSync(fd, buf, offset, Math.floor(length / 2), position);
        }
        partial = false;
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }
      return real.writeSync(fd, buf, offset, length, position);
    },
  };
});

const logger = pino({ level: 'silent' });
const dirs: string[] = [];
afterEach(() => {
  diskFull.on = false;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function drain(outbox: Outbox): OutboxItem[] {
  const items: OutboxItem[] = [];
  for (let item = outbox.next(); item; item = outbox.next()) items.push(item);
  return items;
}

describe('Outbox on a full disk', () => {
  it('refuses the record with outbox_disk_full, leaves no torn bytes, and keeps every other record intact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-full-spec-'));
    dirs.push(dir);
    const first = Outbox.open(dir, { maxBytes: 1024 * 1024, fsync: 'batch', logger });
    for (let n = 1; n <= 3; n++) await first.append('events', { n });

    diskFull.on = true;
    const refused = await first.append('events', { n: 4 }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(OutboxWriteError);
    expect(refused).toMatchObject({ code: 'outbox_disk_full', errno: 'ENOSPC' });
    expect((refused as Error).message).toMatch(/disk is full/);
    // A health sample on a timer must get a rejection too, never a synchronous throw.
    const health = first.append('health', { h: 1 });
    await expect(health).rejects.toBeInstanceOf(OutboxWriteError);
    diskFull.on = false;

    for (let n = 5; n <= 6; n++) await first.append('events', { n });
    const live = drain(first).map((i) => (JSON.parse(i.payload.toString()) as { n: number }).n);
    expect(live).toEqual([1, 2, 3, 5, 6]);
    await first.close();

    const second = Outbox.open(dir, { maxBytes: 1024 * 1024, fsync: 'batch', logger });
    const recovered = drain(second).map((i) => (JSON.parse(i.payload.toString()) as { n: number }).n);
    expect(recovered).toEqual([1, 2, 3, 5, 6]);
    await second.close();
  });
});
