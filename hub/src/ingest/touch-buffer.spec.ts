import { describe, expect, it } from 'vitest';
import type { CameraTouch } from './ingest.repository.js';
import { CameraTouchBuffer } from './touch-buffer.js';

const touch = (camera: string, seenAt: string, eventAt: string, seq: number): CameraTouch => ({
  site: 's1',
  camera,
  lastSeenAt: seenAt,
  lastEventAt: eventAt,
  lastEventSeq: seq,
  healthAt: null,
  health: null,
  reportedStatus: null,
  reportedSince: null,
  reportedProblems: null,
  name: null,
});

describe('CameraTouchBuffer', () => {
  it('folds touches per camera, keeping the latest of every field whatever the order', async () => {
    const written: CameraTouch[][] = [];
    const buffer = new CameraTouchBuffer(async (t) => {
      written.push(t);
    });
    buffer.add([touch('c1', '2026-11-22T10:00:02.000Z', '2026-11-22T10:00:01.000Z', 7)]);
    buffer.add([
      touch('c1', '2026-11-22T10:00:01.000Z', '2026-11-22T10:00:03.000Z', 5),
      touch('c2', '2026-11-22T10:00:00.000Z', '2026-11-22T10:00:00.000Z', 1),
    ]);
    expect(buffer.size).toBe(2);
    await buffer.flush();
    expect(written).toHaveLength(1);
    expect(written[0]!.find((t) => t.camera === 'c1')).toMatchObject({
      lastSeenAt: '2026-11-22T10:00:02.000Z',
      lastEventAt: '2026-11-22T10:00:03.000Z',
      lastEventSeq: 7,
    });
    expect(buffer.size).toBe(0);
    await buffer.flush();
    expect(written).toHaveLength(1); // nothing pending: no statement
  });

  it('keeps the touches of a failed flush for the next one', async () => {
    let fail = true;
    const written: CameraTouch[][] = [];
    const buffer = new CameraTouchBuffer(async (t) => {
      if (fail) throw new Error('connection refused');
      written.push(t);
    });
    buffer.add([touch('c1', '2026-11-22T10:00:01.000Z', '2026-11-22T10:00:01.000Z', 1)]);
    await expect(buffer.flush()).rejects.toThrow('connection refused');
    buffer.add([touch('c1', '2026-11-22T10:00:02.000Z', '2026-11-22T10:00:02.000Z', 2)]);
    fail = false;
    await buffer.flush();
    expect(written).toEqual([[touch('c1', '2026-11-22T10:00:02.000Z', '2026-11-22T10:00:02.000Z', 2)]]);
  });
});
