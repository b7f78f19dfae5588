import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DigestAuthenticator, passwordDigest, WsSecurityVerifier, type UsernameToken } from './auth.js';

const credentials = { username: 'admin', password: 'secret' };

function token(
  createdMs: number,
  nonce = Buffer.from('0123456789abcdef').toString('base64'),
  password = 'secret',
): UsernameToken {
  const created = new Date(createdMs).toISOString();
  return {
    username: 'admin',
    password: passwordDigest(nonce, created, password),
    passwordType: 'digest',
    nonce,
    created,
  };
}

describe(WsSecurityVerifier.name, () => {
  const cameraNow = Date.parse('2030-01-01T12:00:00Z');
  const verifier = () => new WsSecurityVerifier(credentials, { windowMs: 60_000, cameraNow: () => cameraNow });

  it('accepts a fresh digest and refuses a wrong password', () => {
    const sut = verifier();
    expect(sut.verify(token(cameraNow))).toBeNull();
    expect(sut.verify(token(cameraNow, Buffer.from('other nonce').toString('base64'), 'guess'))).toMatch(/wrong/);
  });

  it('judges Created by the camera clock: host-correct but camera-stale tokens fail', () => {
    expect(verifier().verify(token(cameraNow - 2 * 3_600_000))).toMatch(/outside the window/);
  });

  it('refuses a replayed nonce', () => {
    const sut = verifier();
    const once = token(cameraNow);
    expect(sut.verify(once)).toBeNull();
    expect(sut.verify(once)).toBe('nonce replayed');
  });
});

describe(DigestAuthenticator.name, () => {
  const md5 = (value: string) => createHash('md5').update(value).digest('hex');

  function answer(challenge: string, password: string, uri = '/onvif/snapshot'): string {
    const nonce = /nonce="([^"]+)"/.exec(challenge)![1]!;
    const ha1 = md5(`admin:camhub-sim:${password}`);
    const response = md5(`${ha1}:${nonce}:00000001:abcd:auth:${md5(`GET:${uri}`)}`);
    return `Digest username="admin", realm="camhub-sim", nonce="${nonce}", uri="${uri}", qop=auth, nc=00000001, cnonce="abcd", response="${response}"`;
  }

  it('verifies a correct answer to its own challenge', () => {
    const sut = new DigestAuthenticator('camhub-sim', credentials);
    expect(sut.verify(answer(sut.challenge(), 'secret'), 'GET', '/onvif/snapshot')).toBe('ok');
  });

  it('tells missing from invalid credentials', () => {
    const sut = new DigestAuthenticator('camhub-sim', credentials);
    expect(sut.verify(undefined, 'GET', '/onvif/snapshot')).toBe('missing');
    expect(sut.verify(answer(sut.challenge(), 'guess'), 'GET', '/onvif/snapshot')).toBe('invalid');
    expect(sut.verify(answer(sut.challenge(), 'secret', '/elsewhere'), 'GET', '/onvif/snapshot')).toBe('invalid');
  });

  it('forgets its nonces after a reboot', () => {
    const sut = new DigestAuthenticator('camhub-sim', credentials);
    const header = answer(sut.challenge(), 'secret');
    sut.reset();
    expect(sut.verify(header, 'GET', '/onvif/snapshot')).toBe('invalid');
  });
});
