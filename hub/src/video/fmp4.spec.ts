import { describe, expect, it } from 'vitest';
import { codecOf, Fmp4Error, Fmp4Splitter, startsWithKeyframe } from './fmp4.js';

const box = (type: string, ...payload: Buffer[]) => {
  const body = Buffer.concat(payload);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length + 8, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
};
const u32 = (...values: number[]) => {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
};

/** ftyp + moov with one avc1 sample entry whose avcC says profile 0x42, constraints 0xE0, level 0x1E. */
function init(entry = 'avc1') {
  const avcC = box('avcC', Buffer.from([1, 0x42, 0xe0, 0x1e, 0xff, 0xe1]));
  const sampleEntry = box(entry, Buffer.alloc(78), avcC);
  const stsd = box('stsd', u32(0, 1), sampleEntry);
  const moov = box('moov', box('trak', box('mdia', box('minf', box('stbl', stsd)))));
  return Buffer.concat([box('ftyp', Buffer.from('isom')), moov]);
}

/** moof whose trun carries first_sample_flags (0x4): a sync sample, or not (bit 16 set). */
function fragment(keyframe: boolean, mdatBytes = 32) {
  const tfhd = box('tfhd', u32(0x020000, 1));
  const trun = box('trun', u32(0x000205, 3, 0, keyframe ? 0x02000000 : 0x01010000, 100, 100, 100));
  const moof = box('moof', box('mfhd', u32(0, 1)), box('traf', tfhd, trun));
  return Buffer.concat([moof, box('mdat', Buffer.alloc(mdatBytes, 7))]);
}

describe('fMP4 splitter', () => {
  it('finds the codec string of the init segment', () => {
    expect(codecOf(init())).toBe('avc1.42E01E');
    expect(codecOf(init('hvc1'))).toBe('hvc1');
  });

  it('splits init and fragments however the bytes are chunked, and marks keyframe fragments', () => {
    const stream = Buffer.concat([init(), fragment(true), fragment(false), fragment(false, 5000), fragment(true)]);
    for (const chunkSize of [1, 7, 100, stream.length]) {
      const splitter = new Fmp4Splitter();
      const parts = [];
      for (let i = 0; i < stream.length; i += chunkSize)
        parts.push(...splitter.push(stream.subarray(i, i + chunkSize)));
      expect(parts.map((p) => (p.kind === 'init' ? `init:${p.codec}` : p.keyframe ? 'K' : 'd'))).toEqual([
        'init:avc1.42E01E',
        'K',
        'd',
        'd',
        'K',
      ]);
      expect(Buffer.concat(parts.map((p) => p.data))).toEqual(stream);
    }
  });

  it('reads the keyframe flag from tfhd defaults when trun has none', () => {
    const tfhd = box('tfhd', u32(0x020020, 1, 0x01010000));
    const moof = box('moof', box('traf', tfhd, box('trun', u32(0x000001, 1, 0))));
    expect(startsWithKeyframe(moof)).toBe(false);
    const tfhdSync = box('tfhd', u32(0x020020, 1, 0x02000000));
    expect(startsWithKeyframe(box('moof', box('traf', tfhdSync, box('trun', u32(0x000001, 1, 0)))))).toBe(true);
  });

  it('refuses garbage instead of buffering it forever', () => {
    const splitter = new Fmp4Splitter();
    expect(() => splitter.push(Buffer.from([0, 0, 0, 3, 1, 2, 3, 4]))).toThrow(Fmp4Error);
    expect(() => new Fmp4Splitter().push(u32(0x7fffffff, 0x6d646174))).toThrow(/box of/);
  });
});
