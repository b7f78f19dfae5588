import { crc32 } from 'node:zlib';

/**
 * On-disk record: magic (u32) | payload length (u32) | crc32 of length+payload (u32) | payload.
 * The magic makes a zero-filled tail (a file extended by the filesystem before a crash) fail to parse rather than
 * read as empty records; the checksum catches torn and bit-rotted writes.
 */
export const RECORD_MAGIC = 0xca3b0001;
export const HEADER_BYTES = 12;

export function encodeRecord(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt32LE(RECORD_MAGIC, 0);
  out.writeUInt32LE(payload.length, 4);
  payload.copy(out, HEADER_BYTES);
  out.writeUInt32LE(checksum(out.subarray(4, 8), payload), 8);
  return out;
}

function checksum(lengthBytes: Buffer, payload: Buffer): number {
  return crc32(payload, crc32(lengthBytes));
}

export type ScanResult =
  { ok: true; offset: number; length: number; payload: Buffer } | { ok: false; offset: number; reason: string };

/** Reads the records of one segment in order; stops at the first record that does not check out. */
export function* scanRecords(buf: Buffer, start = 0): Generator<ScanResult> {
  let offset = start;
  while (offset < buf.length) {
    if (buf.length - offset < HEADER_BYTES) {
      yield { ok: false, offset, reason: `truncated header (${buf.length - offset} bytes)` };
      return;
    }
    if (buf.readUInt32LE(offset) !== RECORD_MAGIC) {
      yield { ok: false, offset, reason: 'bad magic' };
      return;
    }
    const length = buf.readUInt32LE(offset + 4);
    if (length === 0 || offset + HEADER_BYTES + length > buf.length) {
      yield { ok: false, offset, reason: `truncated record (length ${length})` };
      return;
    }
    const payload = buf.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length);
    if (checksum(buf.subarray(offset + 4, offset + 8), payload) !== buf.readUInt32LE(offset + 8)) {
      yield { ok: false, offset, reason: 'checksum mismatch' };
      return;
    }
    yield { ok: true, offset, length: HEADER_BYTES + length, payload };
    offset += HEADER_BYTES + length;
  }
}
