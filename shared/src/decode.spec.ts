import { describe, expect, it } from 'vitest';
import { decodeMessage } from './decode.js';
import { createTopics, parseTopic } from './topics.js';

const topics = createTopics();
const event = {
  v: 1,
  id: '01936b7e-8c1a-7c35-9f0e-3b1d2a4c5e6f',
  site: 'td-01',
  camera: 'cam-03',
  seq: 1207,
  type: 'motion',
  state: 'start',
  at: '2026-11-22T14:05:09.120Z',
  source: { kind: 'onvif', topic: 'tns1:RuleEngine/CellMotionDetector/Motion' },
  data: { rule: 'MyMotionDetectorRule' },
};
const buf = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
const evTopic = topics.events('td-01', 'cam-03');

describe('decodeMessage', () => {
  it('accepts a clip link on its camera topic and refuses one whose times or reference are not real', () => {
    const link = {
      v: 1,
      site: 'td-01',
      camera: 'cam-03',
      event: event.id,
      clip: `sha256:${'0f'.repeat(32)}`,
      startAt: '2026-11-22T14:05:04.120Z',
      durationMs: 15_000,
      bytes: 480_000,
      at: '2026-11-22T14:05:30.000Z',
    };
    const topic = topics.clips('td-01', 'cam-03');
    expect(topic).toBe('camhub/v1/td-01/cameras/cam-03/clips');
    expect(decodeMessage(topic, buf(link))).toMatchObject({ ok: true, kind: 'clips' });
    expect(decodeMessage(topic, buf({ ...link, startAt: '2026-02-31T00:00:00Z' }))).toMatchObject({
      ok: false,
      reason: 'invalid_payload',
    });
    expect(decodeMessage(topic, buf({ ...link, clip: 'sha256:XYZ' }))).toMatchObject({ ok: false });
    expect(decodeMessage(topics.clips('td-01', 'cam-04'), buf(link))).toMatchObject({ reason: 'topic_mismatch' });
  });

  it('accepts the contract example event', () => {
    const r = decodeMessage(evTopic, buf(event));
    expect(r).toMatchObject({ ok: true, kind: 'events', payload: { id: event.id, seq: 1207 } });
  });

  it('accepts every contract payload kind on its topic', () => {
    const at = '2026-11-22T14:05:30.000Z';
    const health = {
      v: 1,
      site: 'td-01',
      camera: 'cam-03',
      at,
      status: 'degraded',
      problems: [{ code: 'clock_skew', message: 'x' }],
    };
    const status = { v: 1, site: 'td-01', camera: 'cam-03', status: 'online', since: at, problems: [] };
    const agent = { v: 1, site: 'td-01', agent: 'a1', state: 'offline', version: '1.0.0', at, cameras: 12 };
    expect(decodeMessage(topics.health('td-01', 'cam-03'), buf(health)).ok).toBe(true);
    expect(decodeMessage(topics.status('td-01', 'cam-03'), buf(status)).ok).toBe(true);
    expect(decodeMessage(topics.agent('td-01'), buf(agent)).ok).toBe(true);
  });

  it('tolerates optional fields added by a newer agent', () => {
    expect(decodeMessage(evTopic, buf({ ...event, confidence: 0.9 })).ok).toBe(true);
  });

  const cases: [string, string, Uint8Array, string][] = [
    ['unknown topic', 'other/thing', buf(event), 'unknown_topic'],
    ['bad site in topic', 'camhub/v1/TD_01/cameras/cam-03/events', buf(event), 'unknown_topic'],
    ['oversized', evTopic, Buffer.alloc(16 * 1024 + 1, 0x20), 'too_large'],
    ['not utf-8', evTopic, Buffer.from([0xff, 0xfe, 0x7b]), 'not_utf8'],
    ['not json', evTopic, buf('{"v":1,'), 'not_json'],
    ['json array', evTopic, buf([1, 2]), 'invalid_payload'],
    ['version 2', evTopic, buf({ ...event, v: 2 }), 'unsupported_version'],
    ['missing version', evTopic, buf({ ...event, v: undefined }), 'unsupported_version'],
    ['wrong type', evTopic, buf({ ...event, seq: 'x' }), 'invalid_payload'],
    ['unknown event type', evTopic, buf({ ...event, type: 'explosion' }), 'invalid_payload'],
    ['bad id', evTopic, buf({ ...event, id: 'nope' }), 'invalid_payload'],
    ['local time', evTopic, buf({ ...event, at: '2026-11-22T21:05:09+07:00' }), 'invalid_payload'],
    ['impossible date', evTopic, buf({ ...event, at: '0000-00-00T00:00:00Z' }), 'invalid_payload'],
    ['rolled-over date', evTopic, buf({ ...event, at: '2026-02-31T00:00:00.000Z' }), 'invalid_payload'],
    ['site mismatch', evTopic, buf({ ...event, site: 'td-02' }), 'topic_mismatch'],
    ['camera mismatch', evTopic, buf({ ...event, camera: 'cam-04' }), 'topic_mismatch'],
    ['data over 4 KiB', evTopic, buf({ ...event, data: { blob: 'x'.repeat(5000) } }), 'too_large'],
    ['event on health topic', topics.health('td-01', 'cam-03'), buf(event), 'invalid_payload'],
  ];
  it.each(cases)('rejects %s', (_name, topic, raw, reason) => {
    const r = decodeMessage(topic, raw);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe(reason);
      expect(r.detail.length).toBeGreaterThan(0);
    }
  });
});

describe('topics', () => {
  it('builds and parses every kind under a custom root', () => {
    const t = createTopics('test-x/camhub/v1');
    expect(t.events('s1', 'c1')).toBe('test-x/camhub/v1/s1/cameras/c1/events');
    expect(parseTopic(t.agent('s1'), t.root)).toEqual({ kind: 'agent', site: 's1' });
    expect(parseTopic(t.status('s1', 'c1'), t.root)).toEqual({ kind: 'status', site: 's1', camera: 'c1' });
    expect(parseTopic('camhub/v1/s1/cameras/c1/events/extra')).toBeNull();
    expect(parseTopic('camhub/v1/s1/cameras/c1/video')).toBeNull();
  });

  it('refuses to build topics from identifiers that are not safe topic levels', () => {
    expect(() => topics.events('td-01', 'cam/#')).toThrow(/camera/);
    expect(() => topics.agent('+')).toThrow(/site/);
  });
});

describe('time format', () => {
  it('refuses year 0, which JavaScript parses but PostgreSQL does not', async () => {
    const { isValidIsoTime } = await import('./ids.js');
    expect(isValidIsoTime('0000-01-01T00:00:00.000Z')).toBe(false);
    expect(isValidIsoTime('0001-01-01T00:00:00.000Z')).toBe(true);
    const r = decodeMessage(evTopic, buf({ ...event, at: '0000-01-01T00:00:00.000Z' }));
    expect(r.ok).toBe(false);
  });
});
