import { createHash, randomBytes } from 'node:crypto';

/** Parameters of one `WWW-Authenticate: Digest …` challenge (quoted values may contain commas). */
export function parseChallenge(header: string): Map<string, string> {
  const params = new Map<string, string>();
  const pattern = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (const m of header.replace(/^\s*Digest\s+/i, '').matchAll(pattern)) {
    params.set(m[1]!.toLowerCase(), m[2] ?? m[3] ?? '');
  }
  return params;
}

/** Picks a Digest challenge we can answer: SHA-256 preferred, MD5 otherwise. Null when there is none. */
export function pickChallenge(headers: string | string[] | undefined): Map<string, string> | null {
  const list = (Array.isArray(headers) ? headers : headers ? [headers] : []).filter((h) => /^\s*Digest\s/i.test(h));
  const parsed = list.map(parseChallenge);
  const algo = (p: Map<string, string>) => (p.get('algorithm') ?? 'MD5').toUpperCase();
  return parsed.find((p) => algo(p) === 'SHA-256') ?? parsed.find((p) => algo(p) === 'MD5') ?? null;
}

const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** RFC 7616 `Authorization: Digest …` for one request (qop=auth when offered, legacy RFC 2069 otherwise). */
export function digestAuthorization(
  challenge: Map<string, string>,
  credentials: { username: string; password: string },
  method: string,
  uri: string,
  nc = 1,
): string {
  const algorithm = (challenge.get('algorithm') ?? 'MD5').toUpperCase();
  const hashName = algorithm === 'SHA-256' ? 'sha256' : 'md5';
  const h = (s: string) => createHash(hashName).update(s).digest('hex');
  const realm = challenge.get('realm') ?? '';
  const nonce = challenge.get('nonce') ?? '';
  const qops = (challenge.get('qop') ?? '').split(',').map((q) => q.trim());
  const ha1 = h(`${credentials.username}:${realm}:${credentials.password}`);
  const ha2 = h(`${method}:${uri}`);
  const parts = [
    `username=${quote(credentials.username)}`,
    `realm=${quote(realm)}`,
    `nonce=${quote(nonce)}`,
    `uri=${quote(uri)}`,
    `algorithm=${algorithm}`,
  ];
  if (qops.includes('auth')) {
    const cnonce = randomBytes(8).toString('hex');
    const ncHex = nc.toString(16).padStart(8, '0');
    parts.push(`qop=auth`, `nc=${ncHex}`, `cnonce=${quote(cnonce)}`);
    parts.push(`response=${quote(h(`${ha1}:${nonce}:${ncHex}:${cnonce}:auth:${ha2}`))}`);
  } else {
    parts.push(`response=${quote(h(`${ha1}:${nonce}:${ha2}`))}`);
  }
  const opaque = challenge.get('opaque');
  if (opaque !== undefined) parts.push(`opaque=${quote(opaque)}`);
  return `Digest ${parts.join(', ')}`;
}
