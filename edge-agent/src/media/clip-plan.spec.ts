import { describe, expect, it } from 'vitest';
import { type BufferedSegment, clipEndMs, segmentsToDrop, selectClip } from './clip-plan.js';

/** Segments of `sec` seconds and `bytes` each, back to back from time 0. */
const run = (n: number, sec = 2, bytes = 100): BufferedSegment[] =>
  Array.from({ length: n }, (_, i) => ({
    file: `seg-${i}.ts`,
    bytes,
    startMs: i * sec * 1000,
    endMs: (i + 1) * sec * 1000,
  }));

describe('segmentsToDrop', () => {
  it('drops the oldest segments until the rest fit the byte budget', () => {
    const segs = run(10);
    expect(segmentsToDrop(segs, 450, 20_000, 60_000).map((s) => s.file)).toEqual([
      'seg-0.ts',
      'seg-1.ts',
      'seg-2.ts',
      'seg-3.ts',
      'seg-4.ts',
      'seg-5.ts',
    ]);
  });

  it('drops segments older than the window even under budget, and never the newest', () => {
    expect(segmentsToDrop(run(10), 1e9, 20_000, 5_000).map((s) => s.file)).toEqual([
      'seg-0.ts',
      'seg-1.ts',
      'seg-2.ts',
      'seg-3.ts',
      'seg-4.ts',
      'seg-5.ts',
      'seg-6.ts',
    ]);
    expect(segmentsToDrop(run(1, 2, 1000), 10, 100_000, 0)).toEqual([]);
  });
});

describe('clipEndMs', () => {
  const clip = { preSec: 5, postSec: 10, maxSec: 60 };
  it('ends the post-roll after the event end', () => {
    expect(clipEndMs(100_000, 103_000, clip)).toBe(113_000);
  });
  it('caps an event that does not end at maxSec from the clip start', () => {
    expect(clipEndMs(100_000, null, clip)).toBe(155_000);
    expect(clipEndMs(100_000, 200_000, clip)).toBe(155_000);
  });
  it('takes an end dated before the start as the start (a pulse)', () => {
    expect(clipEndMs(100_000, 99_000, clip)).toBe(110_000);
  });
});

describe('selectClip', () => {
  it('starts at the keyframe nearest to the pre-roll start and ends at the post-roll end', () => {
    // Event at 11 s, pre 5 s → from 6 s (a segment start), post-roll to 17 s.
    expect(selectClip(run(10), 6000, 17_000, 11_000)).toEqual({
      files: ['seg-3.ts', 'seg-4.ts', 'seg-5.ts', 'seg-6.ts', 'seg-7.ts', 'seg-8.ts'],
      startMs: 6000,
      durationMs: 11_000,
    });
    // From 7.2 s: the keyframe at 8 s is nearer than the one at 6 s.
    expect(selectClip(run(10), 7200, 17_000, 11_000)?.startMs).toBe(8000);
    // From 6.8 s: 6 s is nearer.
    expect(selectClip(run(10), 6800, 17_000, 11_000)?.startMs).toBe(6000);
  });

  it('never starts at or after the event, even when that keyframe is nearer', () => {
    // Event at 7.9 s with 0.1 s of pre-roll: the keyframe at 8 s is nearest, but after the event.
    expect(selectClip(run(10), 7800, 12_000, 7900)?.startMs).toBe(6000);
  });

  it('takes what the buffer has when it is shorter than the pre-roll, and what arrived when the stream stopped', () => {
    const segs = run(4).map((s) => ({ ...s, startMs: s.startMs + 10_000, endMs: s.endMs + 10_000 }));
    expect(selectClip(segs, 5000, 30_000, 12_000)).toEqual({
      files: ['seg-0.ts', 'seg-1.ts', 'seg-2.ts', 'seg-3.ts'],
      startMs: 10_000,
      durationMs: 8000,
    });
  });

  it('is null when nothing covers the clip', () => {
    expect(selectClip(run(3), 50_000, 60_000, 55_000)).toBeNull();
    expect(selectClip([], 0, 1000, 500)).toBeNull();
  });
});
