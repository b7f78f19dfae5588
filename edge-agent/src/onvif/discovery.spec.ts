import { describe, expect, it } from 'vitest';
import { parseProbeMatches, unadopted } from './discovery.js';

const match = (uuid: string, xaddrs: string) =>
  '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" ' +
  'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"><s:Body><d:ProbeMatches><d:ProbeMatch>' +
  `<a:EndpointReference><a:Address>urn:uuid:${uuid}</a:Address></a:EndpointReference>` +
  '<d:Scopes>onvif://www.onvif.org/hardware/SimCam onvif://www.onvif.org/name/Front%20door</d:Scopes>' +
  `<d:XAddrs>${xaddrs}</d:XAddrs></d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>`;

describe('discovery', () => {
  it('reads ProbeMatches and lists only cameras no configured camera points at', () => {
    const a = parseProbeMatches(match('a', 'http://10.0.0.5:8000/onvif/device_service'));
    const b = parseProbeMatches(match('b', 'http://10.0.0.6/onvif/device_service http://[fe80::1]/onvif'));
    expect(a).toEqual([
      {
        endpoint: 'urn:uuid:a',
        xaddrs: ['http://10.0.0.5:8000/onvif/device_service'],
        hardware: 'SimCam',
        name: 'Front door',
      },
    ]);
    const left = unadopted([...a, ...b], [{ host: '10.0.0.5', port: 8000 }]);
    expect(left.map((c) => c.endpoint)).toEqual(['urn:uuid:b']);
    expect(unadopted(b, [{ host: '10.0.0.6', port: 80 }])).toEqual([]);
  });

  it('skips answers without an endpoint or addresses', () => {
    expect(parseProbeMatches(match('', ''))).toEqual([]);
  });
});
