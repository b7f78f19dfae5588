import { describe, expect, it } from 'vitest';
import {
  agentCondition,
  alertEventTypes,
  cameraCondition,
  type CameraHealthFacts,
  eventConditionReason,
  eventMatches,
  eventsReason,
  groupKeyOf,
  raiseSeverity,
} from './rules.js';
import { testEvent, testRule } from './spec-fixtures.js';

const rule = testRule;
const event = testEvent;
const facts = (over: Partial<CameraHealthFacts>): CameraHealthFacts => ({
  site: 'td-01',
  camera: 'cam-1',
  status: 'online',
  statusSince: new Date('2026-11-22T16:00:00Z'),
  problems: [],
  health: null,
  healthAt: null,
  ...over,
});
const hcm = () => 'Asia/Ho_Chi_Minh';

describe('eventMatches', () => {
  it('checks type, place, schedule and whether the rule is enabled', () => {
    expect(eventMatches(rule({ eventTypes: ['motion'] }), event({}), hcm)).toBe(true);
    expect(eventMatches(rule({ eventTypes: ['intrusion'] }), event({}), hcm)).toBe(false);
    expect(eventMatches(rule({ sites: ['other'] }), event({}), hcm)).toBe(false);
    expect(eventMatches(rule({ cameras: ['td-01/cam-2'] }), event({}), hcm)).toBe(false);
    expect(eventMatches(rule({ cameras: ['td-01/cam-1'] }), event({}), hcm)).toBe(true);
    expect(eventMatches(rule({ enabled: false }), event({}), hcm)).toBe(false);
    const night = rule({ schedule: { windows: [{ start: '22:00', end: '05:00' }] } });
    expect(eventMatches(night, event({ at: '2026-11-22T16:00:00.000Z' }), hcm)).toBe(true); // 23:00 local
    expect(eventMatches(night, event({ at: '2026-11-22T06:00:00.000Z' }), hcm)).toBe(false); // 13:00 local
    expect(eventMatches(night, event({ at: '2026-11-22T16:00:00.000Z' }), () => 'UTC')).toBe(false);
  });

  it('groups per camera or per site', () => {
    expect(groupKeyOf({ groupBy: 'camera' }, 'td-01', 'cam-1')).toBe('td-01/cam-1');
    expect(groupKeyOf({ groupBy: 'site' }, 'td-01', 'cam-1')).toBe('td-01');
    expect(groupKeyOf({ groupBy: 'camera' }, 'td-01', null)).toBe('td-01');
  });
});

describe('health conditions', () => {
  const offline = rule({ kind: 'health', condition: 'camera_offline' });
  it('counts offline cameras, not those unknown because of their agent or silence since install', () => {
    expect(
      cameraCondition(offline, facts({ status: 'offline', problems: [{ code: 'no_heartbeat', message: '' }] })),
    ).toMatchObject({ reason: { code: 'camera_offline', params: { status: 'offline', problems: ['no_heartbeat'] } } });
    expect(cameraCondition(offline, facts({ status: 'degraded' }))).toBeNull();
    expect(
      cameraCondition(offline, facts({ status: 'unknown', problems: [{ code: 'agent_offline', message: '' }] })),
    ).toBeNull();
    expect(cameraCondition(offline, facts({ status: 'unknown', statusSince: null }))).toBeNull();
  });

  it('judges clock skew against the bound and subscriptions from the sample', () => {
    const skew = rule({ kind: 'health', condition: 'clock_skew', boundMs: 5000 });
    const sample = (clockSkewMs: number, eventsSubscribed = true) =>
      ({ onvif: { reachable: true, clockSkewMs, eventsSubscribed } }) as CameraHealthFacts['health'];
    expect(cameraCondition(skew, facts({ health: sample(-6000) }))).toMatchObject({
      reason: { code: 'clock_skew', params: { skewMs: -6000 } },
    });
    expect(cameraCondition(skew, facts({ health: sample(4999) }))).toBeNull();
    const unsub = rule({ kind: 'health', condition: 'events_unsubscribed' });
    expect(cameraCondition(unsub, facts({ health: sample(0, false) }))).not.toBeNull();
    expect(cameraCondition(unsub, facts({ health: sample(0, false), status: 'offline' }))).toBeNull();
  });

  it('makes one site-wide condition of an offline agent', () => {
    const agent = rule({ kind: 'health', condition: 'agent_offline' });
    const at = new Date('2026-11-22T16:00:00Z');
    expect(agentCondition(agent, { site: 'td-01', state: 'offline', receivedAt: at })).toMatchObject({
      camera: null,
      since: at,
    });
    expect(agentCondition(agent, { site: 'td-01', state: 'online', receivedAt: at })).toBeNull();
  });

  it('tells a video loss the camera reported from one our stream probe found, in codes', () => {
    expect(
      eventConditionReason({
        type: 'video_loss',
        source: { kind: 'stream', topic: 'stream/frozen' },
        data: { reason: 'frozen' },
      }),
    ).toEqual({ code: 'video_loss', params: { source: 'stream', reason: 'frozen' } });
    expect(eventConditionReason({ type: 'tamper', source: { kind: 'onvif' } })).toEqual({
      code: 'tamper',
      params: { source: 'camera' },
    });
    expect(eventsReason([{ type: 'line_crossing' }, { type: 'intrusion' }, { type: 'intrusion' }])).toEqual({
      code: 'events',
      params: { types: ['intrusion', 'line_crossing'] },
    });
  });

  it('raises severity one step', () => {
    expect([raiseSeverity('info'), raiseSeverity('warning'), raiseSeverity('critical')]).toEqual([
      'warning',
      'critical',
      'critical',
    ]);
  });
});

describe('alertEventTypes', () => {
  it('gathers the types of enabled event rules and of the event-fed health conditions', () => {
    const types = alertEventTypes([
      rule({ eventTypes: ['intrusion', 'line_crossing'] }),
      rule({ eventTypes: ['motion'], enabled: false }),
      rule({ kind: 'health', eventTypes: null, condition: 'tamper' }),
      rule({ kind: 'health', eventTypes: null, condition: 'camera_offline' }),
      rule({ kind: 'health', eventTypes: null, condition: 'video_loss', enabled: false }),
    ]);
    expect(types && [...types].sort()).toEqual(['intrusion', 'line_crossing', 'tamper']);
  });

  it('is null (every type) when an enabled event rule names no types, and empty without rules', () => {
    expect(alertEventTypes([rule({ eventTypes: ['intrusion'] }), rule({ eventTypes: null })])).toBeNull();
    expect(alertEventTypes([rule({ eventTypes: null, enabled: false })])?.size).toBe(0);
  });
});
