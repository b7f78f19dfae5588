import { describe, expect, it } from 'vitest';
import type { RegistryRow } from './registry.repository.js';
import { configEntry, notAdopted } from './registry.service.js';

const row = (over: Partial<RegistryRow>): RegistryRow => ({
  site: 'td-01',
  camera: 'cam-1',
  name: 'cam-1',
  registry_name: null,
  location: '',
  enabled: true,
  adopted: false,
  host: null,
  port: null,
  username: null,
  secrets: null,
  profile: null,
  sub_profile: null,
  endpoint: null,
  status: null,
  registered: true,
  ...over,
});

describe(configEntry.name, () => {
  it('gives an adopted camera its whole connection, a YAML camera only its name or its switch', () => {
    const adopted = row({
      adopted: true,
      host: '10.0.0.5',
      port: 80,
      username: 'u',
      registry_name: 'Sân',
      profile: 'p',
    });
    expect(configEntry(adopted, 'secret')).toEqual({
      id: 'cam-1',
      enabled: true,
      name: 'Sân',
      host: '10.0.0.5',
      port: 80,
      username: 'u',
      password: 'secret',
      profile: 'p',
    });
    expect(configEntry(row({ enabled: false }), null)).toEqual({ id: 'cam-1', enabled: false });
    expect(configEntry(row({ registry_name: 'Cổng' }), null)).toEqual({ id: 'cam-1', enabled: true, name: 'Cổng' });
  });
});

describe(notAdopted.name, () => {
  it('drops discovered cameras an adoption covers, by endpoint or by host:port', () => {
    const found = [
      { endpoint: 'urn:uuid:1', xaddrs: ['http://10.0.0.5/onvif/device_service'] },
      { endpoint: 'urn:uuid:2', xaddrs: ['http://10.0.0.6:8080/onvif/device_service'] },
      { endpoint: 'urn:uuid:3', xaddrs: ['not a url'] },
    ];
    const rows = [row({ adopted: true, host: '10.0.0.5', port: 80 }), row({ camera: 'cam-2', endpoint: 'urn:uuid:2' })];
    expect(notAdopted(found, rows).map((d) => d.endpoint)).toEqual(['urn:uuid:3']);
  });
});
