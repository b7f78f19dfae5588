import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { child, text, type XmlNode } from './xml.js';

export interface Credentials {
  username: string;
  password: string;
}

/** A WS-Security UsernameToken as sent in the SOAP header. */
export interface UsernameToken {
  username: string;
  password: string;
  passwordType: 'digest' | 'text';
  nonce: string | undefined;
  created: string | undefined;
}

const PASSWORD_TEXT_TYPE = '#PasswordText';

/** The UsernameToken of a parsed SOAP header, or null when the request carries no WS-Security at all. */
export function readUsernameToken(header: XmlNode | undefined): UsernameToken | null {
  const token = child(child(header, 'Security'), 'UsernameToken');
  if (token === undefined) return null;
  const password = child(token, 'Password');
  const type = typeof password === 'object' ? password['@_Type'] : undefined;
  return {
    username: text(child(token, 'Username')) ?? '',
    password: text(password) ?? '',
    passwordType: typeof type === 'string' && type.endsWith(PASSWORD_TEXT_TYPE) ? 'text' : 'digest',
    nonce: text(child(token, 'Nonce')),
    created: text(child(token, 'Created')),
  };
}

/** Base64(SHA1(nonce bytes + Created + password)), the WS-Security UsernameToken Profile digest. */
export function passwordDigest(nonceBase64: string, created: string, password: string): string {
  return createHash('sha1')
    .update(Buffer.concat([Buffer.from(nonceBase64, 'base64'), Buffer.from(created, 'utf8'), Buffer.from(password)]))
    .digest('base64');
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export interface WsSecurityOptions {
  /** How far `Created` may be from the camera's clock, either way. */
  windowMs: number;
  /** The camera's own clock (possibly skewed), in epoch milliseconds. */
  cameraNow: () => number;
}

/**
 * Checks UsernameTokens the way strict cameras (Axis, recent Hikvision) do: digest, freshness against the
 * camera's OWN clock, and no nonce used twice inside the window (replay protection).
 */
export class WsSecurityVerifier {
  private readonly seenNonces = new Map<string, number>();

  constructor(
    private readonly credentials: Credentials,
    private readonly options: WsSecurityOptions,
  ) {}

  /** Null when the token is accepted, else why it was refused (for logs and the fault reason). */
  verify(token: UsernameToken): string | null {
    if (token.username !== this.credentials.username) return 'unknown user';
    if (token.passwordType === 'text') {
      return sameText(token.password, this.credentials.password) ? null : 'wrong password';
    }
    if (!token.nonce || !token.created) return 'digest without Nonce or Created';
    const created = Date.parse(token.created);
    if (Number.isNaN(created)) return 'unreadable Created';
    const now = this.options.cameraNow();
    if (Math.abs(now - created) > this.options.windowMs) {
      return `Created ${token.created} is outside the window around the camera time ${new Date(now).toISOString()}`;
    }
    if (!sameText(passwordDigest(token.nonce, token.created, this.credentials.password), token.password)) {
      return 'wrong password digest';
    }
    this.forgetOldNonces(now);
    if (this.seenNonces.has(token.nonce)) return 'nonce replayed';
    this.seenNonces.set(token.nonce, now + this.options.windowMs);
    return null;
  }

  reset(): void {
    this.seenNonces.clear();
  }

  private forgetOldNonces(now: number): void {
    for (const [nonce, expiresAt] of this.seenNonces) {
      if (expiresAt < now) this.seenNonces.delete(nonce);
    }
  }
}

export type DigestOutcome = 'ok' | 'missing' | 'invalid';

const DIGEST_NONCE_LIFETIME_MS = 5 * 60_000;

/** Parses the parameters of an `Authorization: Digest ...` header; quoted values may contain commas. */
export function parseDigestParams(header: string): Map<string, string> {
  const params = new Map<string, string>();
  const pattern = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (const match of header.replace(/^\s*Digest\s+/i, '').matchAll(pattern)) {
    params.set(match[1]!.toLowerCase(), match[2] ?? match[3] ?? '');
  }
  return params;
}

function hashHex(algorithm: 'md5' | 'sha256', value: string): string {
  return createHash(algorithm).update(value).digest('hex');
}

/**
 * RFC 7616 HTTP Digest with qop=auth, as cameras answer requests without WS-Security. Nonces are stateless
 * (time + HMAC with a per-boot secret), so a reboot invalidates them like on a real device.
 */
export class DigestAuthenticator {
  private secret = randomBytes(16);

  constructor(
    private readonly realm: string,
    private readonly credentials: Credentials,
  ) {}

  challenge(): string {
    return `Digest realm="${this.realm}", qop="auth", nonce="${this.issueNonce()}", algorithm=MD5, stale="FALSE"`;
  }

  verify(header: string | undefined, method: string, requestPath: string): DigestOutcome {
    if (header === undefined || !/^\s*Digest\s/i.test(header)) return 'missing';
    const params = parseDigestParams(header);
    const algorithmName = (params.get('algorithm') ?? 'MD5').toUpperCase();
    const algorithm = algorithmName === 'MD5' ? 'md5' : algorithmName === 'SHA-256' ? 'sha256' : null;
    const nonce = params.get('nonce');
    const uri = params.get('uri');
    const response = params.get('response');
    if (algorithm === null || !nonce || !uri || !response) return 'invalid';
    if (params.get('username') !== this.credentials.username || params.get('realm') !== this.realm) return 'invalid';
    if (!this.isFreshNonce(nonce) || uri !== requestPath) return 'invalid';
    const ha1 = hashHex(algorithm, `${this.credentials.username}:${this.realm}:${this.credentials.password}`);
    const ha2 = hashHex(algorithm, `${method}:${uri}`);
    const qop = params.get('qop');
    const expected =
      qop === undefined
        ? hashHex(algorithm, `${ha1}:${nonce}:${ha2}`)
        : hashHex(algorithm, `${ha1}:${nonce}:${params.get('nc') ?? ''}:${params.get('cnonce') ?? ''}:${qop}:${ha2}`);
    return sameText(expected, response.toLowerCase()) ? 'ok' : 'invalid';
  }

  /** Called on reboot: nonces handed out before it stop working. */
  reset(): void {
    this.secret = randomBytes(16);
  }

  private issueNonce(): string {
    const issuedAt = Date.now().toString(16);
    return `${issuedAt}${this.sign(issuedAt)}`;
  }

  private isFreshNonce(nonce: string): boolean {
    const issuedAt = nonce.slice(0, -32);
    if (!/^[0-9a-f]+$/.test(issuedAt) || !sameText(this.sign(issuedAt), nonce.slice(-32))) return false;
    return Date.now() - parseInt(issuedAt, 16) <= DIGEST_NONCE_LIFETIME_MS;
  }

  private sign(value: string): string {
    return createHmac('sha256', this.secret).update(value).digest('hex').slice(0, 32);
  }
}
