import { describe, expect, it } from 'vitest';
import { decodeSiteConfig, siteConfigTopic } from './site-config.js';

const bytes = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));
const good = {
  v: 1,
  site: 'td-01',
  version: 4,
  at: '2026-11-26T01:00:00.000Z',
  cameras: [{ id: 'cam-1', enabled: true, host: '10.0.0.2', port: 80, username: 'admin', password: 'x' }],
};

describe(decodeSiteConfig.name, () => {
  it('accepts a well-formed configuration for its own site', () => {
    expect(decodeSiteConfig(bytes(good), 'td-01')).toMatchObject({ ok: true, config: { version: 4 } });
  });

  it('refuses with a code, and the version when one can be read', () => {
    expect(decodeSiteConfig(bytes('{"v":1,'), 'td-01')).toMatchObject({ ok: false, code: 'not_json', version: null });
    expect(decodeSiteConfig(bytes(good), 'td-02')).toMatchObject({ ok: false, code: 'wrong_site', version: 4 });
    expect(decodeSiteConfig(bytes({ ...good, version: 0 }), 'td-01')).toMatchObject({
      ok: false,
      code: 'invalid_payload',
    });
    const partial = { ...good, cameras: [{ id: 'cam-1', enabled: true, host: '10.0.0.2' }] };
    expect(decodeSiteConfig(bytes(partial), 'td-01')).toMatchObject({ ok: false, code: 'invalid_payload', version: 4 });
    const twice = { ...good, cameras: [good.cameras[0], good.cameras[0]] };
    expect(decodeSiteConfig(bytes(twice), 'td-01')).toMatchObject({ ok: false, code: 'invalid_payload' });
    expect(decodeSiteConfig(new Uint8Array(600 * 1024), 'td-01')).toMatchObject({ ok: false, code: 'too_large' });
  });

  it('builds the per-site topic under the root and refuses a bad site id', () => {
    expect(siteConfigTopic('td-01', 'root/x/')).toBe('root/x/td-01/config');
    expect(() => siteConfigTopic('TD 01')).toThrow();
  });
});
