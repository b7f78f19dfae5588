import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { AddressRefusedError, createAddressGuard } from './address-guard.js';

describe('webhook address guard', () => {
  it('refuses loopback, private, link-local and metadata addresses, IPv4 and IPv6', () => {
    const g = createAddressGuard(undefined);
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.10',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fe80::1',
      'fd00:ec2::254',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
    ]) {
      expect(g.permitted(a), a).toBe(false);
    }
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '172.32.0.1'])
      expect(g.permitted(a), a).toBe(true);
    expect(() => g.checkLiteral('[::1]')).toThrow(AddressRefusedError);
    expect(() => g.checkLiteral('example.org')).not.toThrow();
  });

  it('lets the allow-list name addresses and blocks', () => {
    const g = createAddressGuard('127.0.0.1, 10.5.0.0/16,fd12::/16');
    expect(g.permitted('127.0.0.1')).toBe(true);
    expect(g.permitted('127.0.0.2')).toBe(false);
    expect(g.permitted('10.5.9.9')).toBe(true);
    expect(g.permitted('10.6.0.1')).toBe(false);
    expect(g.permitted('fd12::5')).toBe(true);
  });

  it('refuses a malformed allow-list naming the setting', () => {
    expect(() => createAddressGuard('localhost,10.0.0.0/40')).toThrow(ConfigError);
    try {
      createAddressGuard('localhost');
    } catch (err) {
      expect((err as ConfigError).problems[0]).toContain('WEBHOOK_ALLOWED_ADDRESSES');
    }
  });

  it('refuses at connect time a name that resolves to loopback', async () => {
    const g = createAddressGuard(undefined);
    const err = await new Promise<Error | null>((resolve) => g.lookup('localhost', {}, (e) => resolve(e)));
    expect(err).toBeInstanceOf(AddressRefusedError);
  });
});
