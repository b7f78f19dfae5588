/** A byte range of a file, both ends included (HTTP's way). */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Reads an HTTP `Range` header against a file of `size` bytes (RFC 9110 §14). Only a single range is served: that is
 * what a `<video>` element asks for when it seeks. Null: no usable header, answer the whole file (200).
 * `unsatisfiable`: a well-formed range outside the file (416).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Several ranges, another unit or garbage: ignoring the header is allowed, and the whole file is the safe answer.
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    // Suffix: the last N bytes.
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (!Number.isSafeInteger(start) || start >= size) return 'unsatisfiable';
  if (end < start) return null;
  return { start, end };
}
