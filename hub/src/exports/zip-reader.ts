import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { createInflateRaw } from 'node:zlib';

/** A ZIP archive this file cannot read: not a zip, truncated, or using a feature we do not write. */
export class ZipFormatError extends Error {
  readonly code = 'invalid_zip';
  constructor(message: string) {
    super(message);
    this.name = 'ZipFormatError';
  }
}

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

async function readAt(fd: Awaited<ReturnType<typeof open>>, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fd.read(buf, 0, length, position);
  if (bytesRead !== length) throw new ZipFormatError('archive is truncated');
  return buf;
}

/**
 * The central directory of a ZIP file (with ZIP64), read without loading the archive: enough to verify the
 * evidence archives the hub writes with yazl, so the verifier needs nothing but Node.
 */
export async function readZipEntries(path: string): Promise<ZipEntry[]> {
  const fd = await open(path, 'r');
  try {
    const { size } = await fd.stat();
    const tailLen = Math.min(size, 22 + 0xffff);
    const tail = await readAt(fd, size - tailLen, tailLen);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new ZipFormatError('not a zip archive (no end of central directory)');
    let count = tail.readUInt16LE(eocd + 10);
    let cdSize = tail.readUInt32LE(eocd + 12);
    let cdOffset = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || tail.readUInt32LE(loc) !== ZIP64_LOCATOR) throw new ZipFormatError('ZIP64 locator missing');
      const z64Offset = Number(tail.readBigUInt64LE(loc + 8));
      const z64 = await readAt(fd, z64Offset, 56);
      if (z64.readUInt32LE(0) !== ZIP64_EOCD) throw new ZipFormatError('ZIP64 end record missing');
      count = Number(z64.readBigUInt64LE(32));
      cdSize = Number(z64.readBigUInt64LE(40));
      cdOffset = Number(z64.readBigUInt64LE(48));
    }
    const cd = await readAt(fd, cdOffset, cdSize);
    const entries: ZipEntry[] = [];
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL) throw new ZipFormatError('bad central directory');
      const method = cd.readUInt16LE(p + 10);
      let compressedSize = cd.readUInt32LE(p + 20);
      let entrySize = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      let localHeaderOffset = cd.readUInt32LE(p + 42);
      const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
      // ZIP64 extra field: the 64-bit values, in this order, for each 32-bit field that is saturated.
      for (let x = p + 46 + nameLen; x < p + 46 + nameLen + extraLen;) {
        const id = cd.readUInt16LE(x);
        const len = cd.readUInt16LE(x + 2);
        if (id === 0x0001) {
          let q = x + 4;
          if (entrySize === 0xffffffff) {
            entrySize = Number(cd.readBigUInt64LE(q));
            q += 8;
          }
          if (compressedSize === 0xffffffff) {
            compressedSize = Number(cd.readBigUInt64LE(q));
            q += 8;
          }
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = Number(cd.readBigUInt64LE(q));
        }
        x += 4 + len;
      }
      if (method !== 0 && method !== 8) throw new ZipFormatError(`${name}: compression method ${method} unsupported`);
      entries.push({ name, method, compressedSize, size: entrySize, localHeaderOffset });
      p += 46 + nameLen + extraLen + commentLen;
    }
    return entries;
  } finally {
    await fd.close();
  }
}

/**
 * Passes at most `limit` bytes and fails the moment more arrive, and fails at the end when fewer did: the size an
 * archive claims is only believed as far as the bytes bear it out, so inflating stops at the cap however large the
 * entry would grow (a 65 KB archive can inflate to gigabytes).
 */
function exactly(limit: number, name: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > limit) cb(new ZipFormatError(`${name}: inflates beyond the ${limit} bytes the archive claims`));
      else cb(null, chunk);
    },
    flush(cb) {
      cb(seen < limit ? new ZipFormatError(`${name}: ${seen} bytes, the archive claims ${limit}`) : null);
    },
  });
}

/** The entry's uncompressed bytes as a stream; it fails as soon as they exceed the size the archive claims. */
export async function openZipEntry(path: string, entry: ZipEntry): Promise<Readable> {
  const fd = await open(path, 'r');
  let start: number;
  try {
    const local = await readAt(fd, entry.localHeaderOffset, 30);
    if (local.readUInt32LE(0) !== LOCAL) throw new ZipFormatError(`${entry.name}: bad local header`);
    start = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  } finally {
    await fd.close();
  }
  const guard = exactly(entry.size, entry.name);
  if (entry.compressedSize === 0) return Readable.from([]).pipe(guard);
  const raw = createReadStream(path, { start, end: start + entry.compressedSize - 1 });
  raw.on('error', (err) => guard.destroy(err));
  if (entry.method === 0) return raw.pipe(guard);
  const inflate = createInflateRaw();
  raw.on('error', (err) => inflate.destroy(err));
  // Stop reading and inflating as soon as the guard gives up.
  guard.on('error', () => {
    raw.destroy();
    inflate.destroy();
  });
  inflate.on('error', (err) => guard.destroy(err));
  return raw.pipe(inflate).pipe(guard);
}

/** The entry's bytes in memory; never more than `maxBytes` are inflated, whatever the archive claims. */
export async function readZipEntry(path: string, entry: ZipEntry, maxBytes: number): Promise<Buffer> {
  if (entry.size > maxBytes) throw new ZipFormatError(`${entry.name} is larger than ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  for await (const chunk of await openZipEntry(path, entry)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
