import { AdoptCameraInputSchema, IDENTIFIER_PATTERN } from '@camhub/shared';
import { describe, expect, it } from 'vitest';
import { CAMERA_HOST, CAMERA_ID, cameraProblems, type CameraFields } from './camera-form.js';

const adopt: CameraFields = {
  id: 'cong-chinh',
  name: 'Cổng chính',
  location: 'Ngõ 12',
  connection: { host: '192.168.1.64', port: '80', username: 'admin', password: 's3cret', passwordRequired: true },
};

const keys = (f: CameraFields) => cameraProblems(f).map((p) => p.key);

describe('camera form checks', () => {
  it('passes a complete adoption', () => {
    expect(cameraProblems(adopt)).toEqual([]);
  });

  it('names every problem at once, in field order', () => {
    expect(
      keys({
        id: 'Cổng',
        name: '  ',
        location: 'x'.repeat(301),
        connection: { host: 'cam gate', port: '70000', username: '', password: '', passwordRequired: true },
      }),
    ).toEqual([
      'cameras.v.id',
      'cameras.v.name',
      'cameras.v.locationLong',
      'cameras.v.host',
      'cameras.v.port',
      'cameras.v.username',
      'cameras.v.password',
    ]);
  });

  it('keeps the stored password when an edit leaves the field empty', () => {
    const edit: CameraFields = {
      name: 'Cổng chính',
      location: '',
      connection: { host: 'cam-cong.local', port: '8080', username: 'admin', password: '', passwordRequired: false },
    };
    expect(cameraProblems(edit)).toEqual([]);
  });

  it('checks no connection for a camera of the agent file', () => {
    expect(cameraProblems({ name: 'Chợ', location: '' })).toEqual([]);
    expect(keys({ name: '', location: '' })).toEqual(['cameras.v.name']);
  });

  it('accepts IPv6 and host names, refuses ports that are not whole numbers', () => {
    for (const host of ['[fe80::1]', 'fe80::1', 'cam-03.local', '10.0.0.7'])
      expect(keys({ ...adopt, connection: { ...adopt.connection!, host } })).toEqual([]);
    for (const port of ['0', '1.5', '', '-1', 'abc'])
      expect(keys({ ...adopt, connection: { ...adopt.connection!, port } })).toEqual(['cameras.v.port']);
  });

  it('uses the same patterns as the hub', () => {
    expect(CAMERA_ID.source).toBe(IDENTIFIER_PATTERN);
    const hubHost = new RegExp(AdoptCameraInputSchema.properties.host.pattern!);
    for (const host of ['[fe80::1]', 'cam_03.local', '10.0.0.7', 'cam gate', 'cam/1', 'cam@x', '', 'é.local'])
      expect(CAMERA_HOST.test(host), host).toBe(hubHost.test(host));
  });
});
