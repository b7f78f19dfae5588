import type { SiteConfig } from '@camhub/shared';
import { describe, expect, it } from 'vitest';
import type { CameraConfig } from '../config.js';
import { cameraReport, effectiveCameras, sameConnection } from './effective.js';

const local = (id: string, over: Partial<CameraConfig> = {}): CameraConfig => ({
  id,
  name: `Local ${id}`,
  host: '10.0.0.1',
  port: 80,
  username: 'admin',
  password: 'yaml-secret',
  ...over,
});
const hub = (cameras: SiteConfig['cameras']): SiteConfig => ({
  v: 1,
  site: 'td-01',
  version: 3,
  at: '2026-11-26T01:00:00.000Z',
  cameras,
});

describe(effectiveCameras.name, () => {
  it('runs the YAML alone while no hub configuration is held', () => {
    const r = effectiveCameras([local('a'), local('b')], null);
    expect(r.run.map((e) => [e.camera.id, e.source])).toEqual([
      ['a', 'local'],
      ['b', 'local'],
    ]);
    expect(r.disabled).toEqual([]);
  });

  it('adds adopted cameras, replaces a YAML camera of the same id, disables and renames camera by camera', () => {
    const r = effectiveCameras(
      [local('a'), local('b'), local('c')],
      hub([
        { id: 'a', enabled: false },
        { id: 'b', enabled: true, name: 'Cổng sau' },
        { id: 'c', enabled: true, host: '10.0.0.9', port: 8080, username: 'u', password: 'p' },
        { id: 'd', enabled: true, name: 'Sân', host: '10.0.0.7', port: 80, username: 'u', password: 'p2' },
        { id: 'e', enabled: false, host: '10.0.0.8', port: 80, username: 'u', password: 'p3' },
      ]),
    );
    expect(Object.fromEntries(r.run.map((e) => [e.camera.id, [e.source, e.camera.name, e.camera.host]]))).toEqual({
      b: ['local', 'Cổng sau', '10.0.0.1'],
      c: ['hub', 'c', '10.0.0.9'],
      d: ['hub', 'Sân', '10.0.0.7'],
    });
    expect(r.disabled).toEqual([
      { id: 'a', source: 'local' },
      { id: 'e', source: 'hub' },
    ]);
    expect(cameraReport(r, new Map([['d', 'start_failed']]))).toEqual([
      { id: 'a', source: 'local', result: 'disabled' },
      { id: 'b', source: 'local', result: 'running' },
      { id: 'c', source: 'hub', result: 'running' },
      { id: 'd', source: 'hub', result: 'failed', code: 'start_failed' },
      { id: 'e', source: 'hub', result: 'disabled' },
    ]);
  });

  it('restarts a camera for a new connection, not for a new name', () => {
    expect(sameConnection(local('a'), local('a', { name: 'Khác' }))).toBe(true);
    expect(sameConnection(local('a'), local('a', { password: 'new' }))).toBe(false);
    expect(sameConnection(local('a'), local('a', { profile: 'sub' }))).toBe(false);
  });
});
