import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretBox, SecretsError } from './secrets.js';

describe('secret box', () => {
  const box = createSecretBox(randomBytes(32));

  it('opens what it sealed, and the sealed text does not contain the secret', () => {
    const sealed = box.seal({ botToken: '123456:ABC-secret-token' }, 'target-1');
    expect(sealed).not.toContain('ABC-secret-token');
    expect(box.open(sealed, 'target-1')).toEqual({ botToken: '123456:ABC-secret-token' });
  });

  it('refuses a value moved to another target, a tampered value, or another key', () => {
    const sealed = box.seal({ password: 'p' }, 'target-1');
    expect(() => box.open(sealed, 'target-2')).toThrow(SecretsError);
    const parts = sealed.split('.');
    const data = Buffer.from(parts[3]!, 'base64');
    data[0] = data[0]! ^ 1;
    parts[3] = data.toString('base64');
    expect(() => box.open(parts.join('.'), 'target-1')).toThrow(SecretsError);
    expect(() => createSecretBox(randomBytes(32)).open(sealed, 'target-1')).toThrow(SecretsError);
  });
});
