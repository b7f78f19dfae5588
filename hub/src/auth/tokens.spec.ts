import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signAccessToken, verifyAccessToken } from './tokens.js';

describe('access tokens', () => {
  const key = randomBytes(32);
  const claims = { sub: 'u1', sid: 's1', iat: 1000, exp: 2000 };

  it('verifies its own tokens until they expire', () => {
    const token = signAccessToken(claims, key);
    expect(verifyAccessToken(token, key, 1500)).toEqual(claims);
    expect(verifyAccessToken(token, key, 2000)).toBeNull();
  });

  it('refuses tokens signed with another key, altered claims and foreign formats', () => {
    const token = signAccessToken(claims, key);
    expect(verifyAccessToken(token, randomBytes(32), 1500)).toBeNull();
    const [p, , mac] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url');
    expect(verifyAccessToken(`${p}.${forged}.${mac}`, key, 1500)).toBeNull();
    expect(verifyAccessToken('eyJhbGciOiJub25lIn0.e30.', key, 1500)).toBeNull();
    expect(verifyAccessToken('', key, 1500)).toBeNull();
  });
});
