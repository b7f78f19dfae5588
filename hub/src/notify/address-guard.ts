import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { ConfigError } from '../errors.js';

/** Addresses a webhook must not reach unless an admin names them: this host, the LAN, cloud metadata. */
const REFUSED: [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'], // "this network"
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'], // link-local, incl. 169.254.169.254 (cloud metadata)
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['224.0.0.0', 3, 'ipv4'], // multicast, reserved, broadcast
  ['100.100.100.200', 32, 'ipv4'], // Alibaba Cloud metadata
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['fc00::', 7, 'ipv6'], // unique local (incl. fd00:ec2::254, AWS metadata over IPv6)
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

export class AddressRefusedError extends Error {
  readonly code = 'address_refused';
  constructor(readonly address: string) {
    super(
      `${address} is a loopback, private, link-local or metadata address; ` +
        'name it in WEBHOOK_ALLOWED_ADDRESSES to allow it',
    );
    this.name = 'AddressRefusedError';
  }
}

/** IPv4 written inside IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it is. */
function unmapped(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m) return { address: m[1]!, family: 'ipv4' };
  return { address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

/**
 * Judges the addresses a host name resolves to, at connect time (so a name that resolves to 127.0.0.1 later is
 * caught too). `allowed`: WEBHOOK_ALLOWED_ADDRESSES, "127.0.0.1,10.1.2.0/24,fd00::/8".
 */
export function createAddressGuard(allowed: string | undefined) {
  const refused = new BlockList();
  for (const [net, prefix, family] of REFUSED) refused.addSubnet(net, prefix, family);
  const allow = new BlockList();
  const problems: string[] = [];
  for (const item of (allowed ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [net, prefix] = item.split('/');
    const family = isIP(net ?? '');
    const bits = prefix === undefined ? (family === 6 ? 128 : 32) : Number(prefix);
    if (!family || !Number.isInteger(bits) || bits < 0 || bits > (family === 6 ? 128 : 32)) {
      problems.push(`WEBHOOK_ALLOWED_ADDRESSES: "${item}" is not an IP address or CIDR block`);
      continue;
    }
    allow.addSubnet(net!, bits, family === 6 ? 'ipv6' : 'ipv4');
  }
  if (problems.length) throw new ConfigError(problems);

  const permitted = (raw: string) => {
    const { address, family } = unmapped(raw);
    return allow.check(address, family) || !refused.check(address, family);
  };

  /** A `lookup` for http(s).request: resolves, then refuses the connection if any address is not permitted. */
  const lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const bad = addresses.find((a) => !permitted(a.address));
      if (bad) return callback(Object.assign(new AddressRefusedError(bad.address)), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0]!;
      return callback(null, first.address, first.family);
    });
  };

  return {
    permitted,
    lookup,
    /** For URLs naming an IP literal, which Node connects to without a lookup. */
    checkLiteral(host: string): void {
      const h = host.replace(/^\[|\]$/g, '');
      if (isIP(h) && !permitted(h)) throw new AddressRefusedError(h);
    },
  };
}
export type AddressGuard = ReturnType<typeof createAddressGuard>;
