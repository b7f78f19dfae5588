import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { NotificationChannel } from './channel.js';
import type { NotifyRepository, TargetRow } from './notify.repository.js';
import { createSecretBox } from './secrets.js';
import { createTargetSecrets } from './target-secrets.js';

const webhook = { name: 'webhook', secretFields: ['secret'] } as unknown as NotificationChannel;
const box = createSecretBox(randomBytes(32));
const secrets = createTargetSecrets(box, {} as NotifyRepository, new Map([['webhook', webhook]]));

const row = (id: string, config: Record<string, unknown>, sealed: string | null): TargetRow =>
  ({ id, channel: 'webhook', config, secrets: sealed }) as TargetRow;

describe('createTargetSecrets', () => {
  it("seals a URL's password beside the channel's secrets and puts it back when opened", () => {
    const url = 'https://bob:p%40ss:w0rd@hooks.example.vn/in?x=1';
    const s = secrets.split('webhook', 't-1', { url, secret: 'signing-secret-0123' });
    expect(s.config).toEqual({ url: 'https://bob@hooks.example.vn/in?x=1' });
    expect(s.secrets).not.toContain('w0rd');
    expect(s.secretNames).toEqual(['secret']);
    const r = row('t-1', s.config, s.secrets);
    expect(secrets.open(r)).toEqual({ url: new URL(url).toString(), secret: 'signing-secret-0123' });
    expect(new URL(String(secrets.open(r).url)).password).toBe('p%40ss%3Aw0rd');
    expect(secrets.publicConfig(r)).toEqual({ url: 'https://bob:redacted@hooks.example.vn/in?x=1' });
    expect(secrets.secretNames(r)).toEqual(['secret']);
    expect(secrets.hasClearSecrets(r)).toBe(false);
  });

  it('leaves a URL without a password in config, and recognises rows that still keep secrets in clear', () => {
    const s = secrets.split('webhook', 't-2', { url: 'https://hooks.example.vn/in', secret: 'signing-secret-0123' });
    expect(s.config).toEqual({ url: 'https://hooks.example.vn/in' });
    expect(secrets.publicConfig(row('t-2', s.config, s.secrets))).toEqual({ url: 'https://hooks.example.vn/in' });
    const legacy = row('t-3', { url: 'http://carol:pw@10.0.0.5/x', secret: 'signing-secret-0123' }, null);
    expect(secrets.hasClearSecrets(legacy)).toBe(true);
    expect(secrets.publicConfig(legacy)).toEqual({ url: 'http://carol:redacted@10.0.0.5/x' });
    expect(secrets.hasClearSecrets(row('t-4', { url: 'http://carol@10.0.0.5/x' }, null))).toBe(false);
  });

  it('ignores a sealed-password key sent from outside (only ever made from the URL beside it)', () => {
    const s = secrets.split('webhook', 't-5', { url: 'https://h.example.vn/', 'url#password': 'x', secret: 's' });
    expect(box.open(s.secrets!, 't-5')).toEqual({ secret: 's' });
  });
});
