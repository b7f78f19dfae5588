import { randomBytes, scrypt, type ScryptOptions, timingSafeEqual } from 'node:crypto';

/**
 * scrypt with N = 2^15, r = 8, p = 1: 32 MiB and ~50-100 ms per hash, OWASP's minimum for scrypt. The parameters are
 * stored with each hash, so raising them later only affects new hashes.
 */
const DEFAULT = { logN: 15, r: 8, p: 1 };
const KEY_LEN = 32;

function scryptAsync(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LEN, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

const optionsFor = (logN: number, r: number, p: number): ScryptOptions => ({
  N: 2 ** logN,
  r,
  p,
  // Node's default maxmem (32 MiB) is exactly the need at N=2^15, r=8, and scrypt needs a little more.
  maxmem: 2 * 128 * r * 2 ** logN + 1024 * 1024,
});

/** `scrypt$<log2 N>$<r>$<p>$<salt>$<key>` (base64). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const { logN, r, p } = DEFAULT;
  const key = await scryptAsync(password, salt, optionsFor(logN, r, p));
  return ['scrypt', logN, r, p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [logN, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![logN, r, p].every(Number.isInteger) || logN < 10 || logN > 22) return false;
  const expected = Buffer.from(parts[5]!, 'base64');
  const key = await scryptAsync(password, Buffer.from(parts[4]!, 'base64'), optionsFor(logN, r, p));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash of a random password: verifying against it costs the same as a real check, so unknown users take as long. */
export const DUMMY_HASH_PROMISE = (() => {
  let cached: Promise<string> | null = null;
  return () => (cached ??= hashPassword(randomBytes(16).toString('hex')));
})();
