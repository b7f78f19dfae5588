import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from '../errors.js';

export class SecretsError extends AppError {
  constructor(message: string) {
    super('secrets_unreadable', message, 500);
  }
}

const VERSION = 'v1';

/**
 * Seals small JSON objects (a target's tokens and passwords) with AES-256-GCM under a key derived from the hub key.
 * `bind` (the target id) is authenticated with the data, so a sealed value copied onto another row does not open.
 */
export function createSecretBox(key: Buffer) {
  if (key.length !== 32) throw new SecretsError('the secrets key must be 32 bytes');
  return {
    seal(value: Record<string, string>, bind: string): string {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(bind));
      const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
      return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), data.toString('base64')].join(
        '.',
      );
    },

    open(sealed: string, bind: string): Record<string, string> {
      const [version, iv, tag, data] = sealed.split('.');
      if (version !== VERSION || !iv || !tag || data === undefined) throw new SecretsError('unknown sealed format');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
        decipher.setAAD(Buffer.from(bind));
        decipher.setAuthTag(Buffer.from(tag, 'base64'));
        const text = Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
        return JSON.parse(text) as Record<string, string>;
      } catch (err) {
        // Wrong hub key (restored database, other installation) or tampering: say which, never the bytes.
        throw new SecretsError(
          `cannot open stored secrets (${(err as Error).message}): is this the hub key they were sealed with?`,
        );
      }
    },
  };
}
export type SecretBox = ReturnType<typeof createSecretBox>;
