import { describe, expect, it } from 'vitest';
import { PictureWatch } from './picture-watch.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const ok = { frozen: false, black: false };
const frozen = { frozen: true, black: false };
const black = { frozen: true, black: true };

describe('PictureWatch', () => {
  it('starts video_loss after confirmRuns frozen runs, dated at the first, and ends on the first good run', () => {
    const w = new PictureWatch(2);
    expect(w.observe(ok, at(0))).toEqual([]);
    expect(w.watching).toBe(false);
    expect(w.observe(frozen, at(30))).toEqual([]);
    expect(w.watching).toBe(true);
    expect(w.observe(frozen, at(60))).toEqual([
      { type: 'video_loss', state: 'start', topic: 'stream/frozen', at: at(30), data: { reason: 'frozen' } },
    ]);
    expect(w.observe(frozen, at(90))).toEqual([]);
    expect(w.observe(ok, at(120))).toEqual([
      {
        type: 'video_loss',
        state: 'end',
        topic: 'stream/frozen',
        at: at(120),
        data: { reason: 'frozen', durationSec: 90 },
      },
    ]);
    expect(w.watching).toBe(false);
  });

  it('one frozen run is not an event', () => {
    const w = new PictureWatch(2);
    expect(w.observe(frozen, at(0))).toEqual([]);
    expect(w.observe(ok, at(30))).toEqual([]);
    expect(w.observe(frozen, at(60))).toEqual([]);
  });

  it('black is tamper; switching from frozen to black ends one and starts the other after confirmation', () => {
    const w = new PictureWatch(1);
    expect(w.observe(frozen, at(0)).map((d) => `${d.type}:${d.state}`)).toEqual(['video_loss:start']);
    const next = w.observe(black, at(30));
    expect(next.map((d) => `${d.type}:${d.state}`)).toEqual(['video_loss:end', 'tamper:start']);
    expect(next[1]).toMatchObject({ topic: 'stream/black', data: { tamper: 'black' } });
    expect(w.observe(ok, at(60)).map((d) => `${d.type}:${d.state}`)).toEqual(['tamper:end']);
  });
});
