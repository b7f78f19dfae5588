import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SeqStore } from './seq-store.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'seq-spec-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe(SeqStore.name, () => {
  it('counts per camera and continues without a gap after a clean close', () => {
    const dir = tempDir();
    const a = new SeqStore(dir, 10);
    expect([a.take('cam-1'), a.take('cam-1'), a.take('cam-2'), a.take('cam-1')]).toEqual([0, 1, 0, 2]);
    a.close();
    const b = new SeqStore(dir, 10);
    expect([b.take('cam-1'), b.take('cam-2')]).toEqual([3, 1]);
  });

  it('never reuses a number after a crash (no close): it skips to the reserved block end', () => {
    const dir = tempDir();
    const a = new SeqStore(dir, 10);
    const issued = Array.from({ length: 15 }, () => a.take('cam-1'));
    expect(issued.at(-1)).toBe(14);
    const b = new SeqStore(dir, 10); // the first process died without close()
    const next = b.take('cam-1');
    expect(next).toBeGreaterThan(14);
    expect(next).toBe(20);
  });
});
