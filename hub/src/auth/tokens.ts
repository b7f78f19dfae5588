import { createHmac, timingSafeEqual } from 'node:crypto';

/** What an access token says: which user, which session (for revocation), until when. */
export interface AccessClaims {
  sub: string;
  sid: string;
  iat: number;
  exp: number;
}

const PREFIX = 'cha1';

/**
 * Compact signed token `cha1.<claims b64url>.<HMAC-SHA256 b64url>`. Not a JWT on purpose: one algorithm, no header
 * to negotiate, so there is no `alg: none` or key-confusion to get wrong.
 */
export function signAccessToken(claims: AccessClaims, key: Buffer): string {
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const mac = createHmac('sha256', key).update(`${PREFIX}.${body}`).digest('base64url');
  return `${PREFIX}.${body}.${mac}`;
}

/** The claims of a well-signed, unexpired token; null otherwise (callers answer 401 without saying why). */
export function verifyAccessToken(token: string, key: Buffer, nowSec = Math.floor(Date.now() / 1000)) {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) return null;
  const expected = createHmac('sha256', key).update(`${PREFIX}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2]!, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  let claims: AccessClaims;
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as AccessClaims;
  } catch {
    return null; // signed by us yet unparseable cannot happen; treat as invalid rather than crash
  }
  if (typeof claims.exp !== 'number' || claims.exp <= nowSec) return null;
  if (typeof claims.sub !== 'string' || typeof claims.sid !== 'string') return null;
  return claims;
}
