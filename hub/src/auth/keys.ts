import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  createHash,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AppError } from '../errors.js';

export class HubKeyError extends AppError {
  constructor(message: string) {
    super('hub_key_invalid', message, 500);
  }
}

export interface HubKeys {
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicKeyPem: string;
  /** SHA-256 of the raw public key, hex: names the key in manifests. */
  keyId: string;
  /** HMAC key for access tokens, derived from the private key: one secret to keep and back up. */
  tokenKey: Buffer;
  /** AES-256-GCM key for secrets kept in the database (notification targets), derived from the same private key. */
  secretsKey: Buffer;
}

/**
 * What is wrong with an existing hub key file (null when it is usable or absent: the hub then creates one). Read at
 * configuration time, so a wrong key stops the hub before it runs anything.
 */
export function checkHubKeyFile(path: string): string | null {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return null;
    return `cannot read ${path} (${(err as Error).message})`;
  }
  try {
    keysFromPrivate(createPrivateKey(pem));
    return null;
  } catch (err) {
    return `${path}: ${(err as Error).message}`;
  }
}

export function keysFromPrivate(privateKey: KeyObject): HubKeys {
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new HubKeyError('the hub key must be an Ed25519 key');
  const publicKey = createPublicKey(privateKey);
  const raw = publicKey.export({ format: 'der', type: 'spki' });
  const secret = privateKey.export({ format: 'der', type: 'pkcs8' });
  return {
    privateKey,
    publicKey,
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    keyId: createHash('sha256')
      .update(raw.subarray(raw.length - 32))
      .digest('hex'),
    tokenKey: Buffer.from(hkdfSync('sha256', secret, 'camhub', 'camhub access tokens v1', 32)),
    secretsKey: Buffer.from(hkdfSync('sha256', secret, 'camhub', 'camhub stored secrets v1', 32)),
  };
}

export function generateHubKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/**
 * Loads the hub key; creates it (mode 0600) on first start. Every hub process of one installation must share the
 * same file, or tokens issued by one are refused by another and exports carry different signatures.
 */
export async function loadOrCreateHubKey(path: string, log?: (msg: string) => void): Promise<HubKeys> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') throw err;
    pem = generateHubKeyPem();
    await mkdir(dirname(path), { recursive: true });
    // 'wx': if another hub process created it first, use theirs.
    try {
      await writeFile(path, pem, { mode: 0o600, flag: 'wx' });
      log?.(`created a new hub key at ${path}: back it up, exports are verified against it`);
    } catch (writeErr) {
      if ((writeErr as { code?: string }).code !== 'EEXIST') throw writeErr;
      pem = await readFile(path, 'utf8');
    }
  }
  try {
    return keysFromPrivate(createPrivateKey(pem));
  } catch (err) {
    if (err instanceof HubKeyError) throw err;
    throw new HubKeyError(`cannot read the hub key ${path}: ${(err as Error).message}`);
  }
}
