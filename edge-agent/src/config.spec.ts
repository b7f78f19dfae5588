import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cameraEnvName, fieldName, loadConfig, parseConfig } from './config.js';
import { ConfigError } from './errors.js';

const camera = (over: Record<string, unknown> = {}) => ({
  id: 'cam-01',
  name: 'Gate',
  host: '127.0.0.1',
  port: 18000,
  username: 'admin',
  password: 'pw',
  ...over,
});
const valid = (over: Record<string, unknown> = {}) => ({
  site: 'td-01',
  mqtt: { url: 'mqtt://127.0.0.1:1883' },
  cameras: [camera()],
  dataDir: '/tmp/x',
  outbox: { maxBytes: 1_000_000 },
  ...over,
});

function problems(raw: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(raw, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  return [];
}

describe('config', () => {
  it('applies defaults', () => {
    const c = parseConfig(valid());
    expect(c.mqtt.topicRoot).toBe('camhub/v1');
    expect(c.motionTimeoutSec).toBe(60);
    expect(c.discovery).toBe(false);
    expect(c.onvif).toMatchObject({ leaseSec: 600, renewSec: 480, pullTimeoutSec: 60, messageLimit: 100 });
    expect(c.media.snapshotTimeoutMs).toBe(1500);
    expect(c.agentId).toMatch(/^td-01@/);
  });

  it('reports every bad field at once, each named the way the file spells it', () => {
    const p = problems(
      valid({
        site: 'TD 01',
        mqtt: { url: 'localhost' },
        cameras: [camera(), camera({ id: 'cam-02' }), camera({ id: 'cam-03', port: 70000, user: 'x' })],
        outbox: {},
      }),
    );
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^site: must match/),
        'mqtt.url: must be a URL like mqtt://host:1883',
        'cameras[2].port: must be an integer 1-65535',
        'cameras[2].user: is not a known field',
        'outbox.maxBytes: is required',
      ]),
    );
    expect(p).toHaveLength(5);
  });

  it('reports missing camera fields and duplicate ids', () => {
    expect(problems(valid({ cameras: [{ id: 'cam-01' }] }))).toEqual([
      'cameras[0].name: is required',
      'cameras[0].host: is required',
      'cameras[0].port: is required',
      'cameras[0].username: is required',
      'cameras[0].password: is required',
    ]);
    expect(problems(valid({ cameras: [camera(), camera()] }))).toEqual([
      'cameras[1].id: "cam-01" is already used by cameras[0]',
    ]);
  });

  it('checks timing relations', () => {
    expect(problems(valid({ onvif: { leaseSec: 60, renewSec: 60 } }))).toEqual([
      'onvif.renewSec: must be less than onvif.leaseSec (60)',
    ]);
  });

  it('takes secrets from the environment', () => {
    const raw = valid({ cameras: [camera({ password: undefined })], hub: { url: 'http://hub' } });
    delete (raw.cameras as Array<Record<string, unknown>>)[0]!.password;
    const c = parseConfig(raw, {
      [cameraEnvName('cam-01', 'PASSWORD')]: 'from-env',
      CAMHUB_MQTT_PASSWORD: 'mqtt-secret',
      CAMHUB_HUB_TOKEN: 'tok',
    });
    expect(cameraEnvName('cam-01', 'PASSWORD')).toBe('CAMHUB_CAMERA_CAM_01_PASSWORD');
    expect(c.cameras[0]!.password).toBe('from-env');
    expect(c.mqtt.password).toBe('mqtt-secret');
    expect(c.hub?.token).toBe('tok');
  });

  it('reads YAML and JSON files and names a file that is not there', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-spec-'));
    try {
      writeFileSync(join(dir, 'a.json'), JSON.stringify(valid()));
      writeFileSync(
        join(dir, 'a.yaml'),
        'site: td-01\nmqtt: { url: "mqtt://h" }\ncameras: []\ndataDir: /tmp\noutbox: { maxBytes: 70000 }\n',
      );
      expect(loadConfig(join(dir, 'a.json'), {}).site).toBe('td-01');
      expect(loadConfig(join(dir, 'a.yaml'), {}).outbox.maxBytes).toBe(70000);
      expect(() => loadConfig(join(dir, 'missing.yaml'), {})).toThrow(/cannot read config file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('turns JSON pointers into field names', () => {
    expect(fieldName('/cameras/2/port')).toBe('cameras[2].port');
    expect(fieldName('/mqtt/url')).toBe('mqtt.url');
    expect(fieldName('')).toBe('(root)');
  });

  it('reads the ffmpeg command through the schema: media.ffmpegPath, or FFMPEG_PATH from the environment', () => {
    expect(parseConfig(valid()).media.ffmpegPath).toBe('ffmpeg');
    expect(parseConfig(valid(), { FFMPEG_PATH: '/opt/ffmpeg/bin/ffmpeg' }).media.ffmpegPath).toBe(
      '/opt/ffmpeg/bin/ffmpeg',
    );
    expect(problems(valid({ media: { ffmpegPath: '' } }))).toEqual([
      'media.ffmpegPath: must be a non-empty command or path',
    ]);
  });

  it('gives an opted-in camera clip defaults (5 / 10 / 60 s, main profile) and checks their relation', () => {
    const c = parseConfig(valid({ cameras: [camera({ clips: {} }), camera({ id: 'cam-02' })] }));
    expect(c.cameras[0]!.clips).toEqual({ preSec: 5, postSec: 10, maxSec: 60, profile: 'main', bufferBytes: 32 << 20 });
    expect(c.cameras[1]!.clips).toBeUndefined();
    expect(problems(valid({ cameras: [camera({ clips: { preSec: 30, postSec: 40, profile: 'low' } })] }))).toEqual([
      'cameras[0].clips.profile: must be main or sub',
    ]);
    expect(problems(valid({ cameras: [camera({ clips: { preSec: 30, postSec: 40 } })] }))).toEqual([
      'cameras[0].clips.maxSec: must be at least preSec + postSec (70)',
    ]);
  });
});
