/**
 * Splits the fragmented MP4 that `ffmpeg -c copy -f mp4 -movflags frag_keyframe+empty_moov+default_base_moof` writes
 * into its init segment (`ftyp` + `moov`) and its fragments (`moof` + `mdat`), whatever the chunking of the bytes on
 * the wire, and says which fragments start with a keyframe (a late viewer must start there). Only the box headers and
 * the sample flags are read; the media is never parsed or copied more than once.
 */

export type Fmp4Part =
  { kind: 'init'; data: Buffer; codec: string | null } | { kind: 'fragment'; data: Buffer; keyframe: boolean };

export class Fmp4Error extends Error {
  readonly code = 'invalid_fmp4';
}

/** Largest box accepted: a fragment of a few seconds of a camera stream is far smaller; more is garbage. */
const MAX_BOX_BYTES = 16 * 1024 * 1024;
const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'moof', 'traf', 'mvex']);

function boxType(buf: Buffer, at: number): string {
  return buf.toString('latin1', at + 4, at + 8);
}

/** Child boxes of a box's payload (start/end offsets in `buf`). */
function* children(buf: Buffer, start: number, end: number): Generator<{ type: string; start: number; end: number }> {
  let at = start;
  while (at + 8 <= end) {
    let size = buf.readUInt32BE(at);
    let header = 8;
    if (size === 1) {
      if (at + 16 > end) return;
      size = Number(buf.readBigUInt64BE(at + 8));
      header = 16;
    } else if (size === 0) size = end - at;
    if (size < header || at + size > end) return;
    yield { type: boxType(buf, at), start: at + header, end: at + size };
    at += size;
  }
}

function find(buf: Buffer, start: number, end: number, path: string[]): { start: number; end: number } | null {
  const [head, ...rest] = path;
  for (const c of children(buf, start, end)) {
    if (c.type !== head) continue;
    if (rest.length === 0) return c;
    if (!CONTAINERS.has(c.type) && c.type !== 'stsd' && c.type !== 'avc1' && c.type !== 'avc3') continue;
    const found = find(buf, c.start, c.end, rest);
    if (found) return found;
  }
  return null;
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0').toUpperCase();

/**
 * The RFC 6381 codec string MSE needs (`avc1.42E01E`), from the init segment's sample entry: for H.264 the profile,
 * constraint flags and level from `avcC`; `hvc1`/`hev1` for H.265 (which the browser may not play); null if unknown.
 */
export function codecOf(init: Buffer): string | null {
  const stsd = find(init, 0, init.length, ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsd']);
  if (!stsd) return null;
  // stsd: version/flags (4) + entry count (4), then sample entries.
  for (const entry of children(init, stsd.start + 8, stsd.end)) {
    if (entry.type === 'avc1' || entry.type === 'avc3') {
      // VisualSampleEntry: 8 (SampleEntry) + 70 bytes of visual fields before its child boxes.
      for (const c of children(init, entry.start + 78, entry.end)) {
        if (c.type === 'avcC' && c.end - c.start >= 4) {
          return `${entry.type}.${hex2(init[c.start + 1]!)}${hex2(init[c.start + 2]!)}${hex2(init[c.start + 3]!)}`;
        }
      }
      return entry.type;
    }
    if (entry.type === 'hvc1' || entry.type === 'hev1') return entry.type;
    return entry.type;
  }
  return null;
}

/** Sample flags say "not a sync sample" (bit 16) for anything but a keyframe. */
const isSync = (flags: number) => (flags & 0x10000) === 0;

/** Whether the fragment's first sample is a keyframe: trun's first-sample flags, its per-sample flags, or tfhd's default. */
export function startsWithKeyframe(moof: Buffer): boolean {
  const traf = find(moof, 0, moof.length, ['moof', 'traf']);
  if (!traf) return false;
  let defaultFlags: number | null = null;
  for (const c of children(moof, traf.start, traf.end)) {
    if (c.type === 'tfhd') {
      const flags = moof.readUInt32BE(c.start) & 0xffffff;
      let at = c.start + 8; // version/flags + track_ID
      if (flags & 0x1) at += 8; // base_data_offset
      if (flags & 0x2) at += 4; // sample_description_index
      if (flags & 0x8) at += 4; // default_sample_duration
      if (flags & 0x10) at += 4; // default_sample_size
      if (flags & 0x20 && at + 4 <= c.end) defaultFlags = moof.readUInt32BE(at);
    } else if (c.type === 'trun') {
      const flags = moof.readUInt32BE(c.start) & 0xffffff;
      let at = c.start + 8; // version/flags + sample_count
      if (flags & 0x1) at += 4; // data_offset
      if (flags & 0x4) return isSync(moof.readUInt32BE(at)); // first_sample_flags
      if (flags & 0x400) {
        if (flags & 0x100) at += 4;
        if (flags & 0x200) at += 4;
        return isSync(moof.readUInt32BE(at));
      }
      return defaultFlags === null ? false : isSync(defaultFlags);
    }
  }
  return false;
}

/** Incremental splitter: `push` bytes as they arrive, get whole parts back. */
export class Fmp4Splitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private initBoxes: Buffer[] = [];
  private moof: Buffer | null = null;
  private initDone = false;
  private nextSize = 0;

  push(chunk: Buffer): Fmp4Part[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const parts: Fmp4Part[] = [];
    for (;;) {
      // The size of the box being received is known: wait for it without looking at the bytes again.
      if (this.pendingBytes < Math.max(8, this.nextSize)) break;
      const head = this.peek(16);
      let size = head.readUInt32BE(0);
      if (size === 1) {
        if (head.length < 16) break;
        size = Number(head.readBigUInt64BE(8));
      }
      if (size < 8 || size > MAX_BOX_BYTES) throw new Fmp4Error(`box of ${size} bytes`);
      if (this.pendingBytes < size) {
        this.nextSize = size;
        break;
      }
      this.nextSize = 0;
      const box = this.take(size);
      const part = this.onBox(boxType(box, 0), box);
      if (part) parts.push(part);
    }
    return parts;
  }

  private onBox(type: string, box: Buffer): Fmp4Part | null {
    if (!this.initDone) {
      this.initBoxes.push(box);
      if (type === 'moov') {
        this.initDone = true;
        const data = Buffer.concat(this.initBoxes);
        this.initBoxes = [];
        return { kind: 'init', data, codec: codecOf(data) };
      }
      return null;
    }
    if (type === 'moof') {
      this.moof = box;
      return null;
    }
    if (type === 'mdat' && this.moof) {
      const moof = this.moof;
      this.moof = null;
      return { kind: 'fragment', data: Buffer.concat([moof, box]), keyframe: startsWithKeyframe(moof) };
    }
    // styp, sidx, free, mfra…: not needed to play; dropped.
    return null;
  }

  private peek(n: number): Buffer {
    if (this.pending[0]!.length < n && this.pending.length > 1) this.pending = [Buffer.concat(this.pending)];
    return this.pending[0]!;
  }

  private take(n: number): Buffer {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    // A copy for what is kept: the rest must not pin the whole concatenated buffer.
    return Buffer.from(out);
  }
}
