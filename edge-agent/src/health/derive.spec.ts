import { describe, expect, it } from 'vitest';
import { deriveHealth, type OnvifFindings, type StreamFindings } from './derive.js';

const T = { clockSkewMaxMs: 5000, lowFpsRatio: 0.5, lowFpsFloor: 1 };
const onvif = (o: Partial<OnvifFindings> = {}): OnvifFindings => ({
  reachable: true,
  authFailed: false,
  error: null,
  clockSkewMs: 20,
  eventsSubscribed: true,
  pullsStalled: false,
  ...o,
});
const stream = (s: Partial<StreamFindings> = {}): StreamFindings => ({
  ok: true,
  error: null,
  fps: 10,
  expectedFps: 10,
  frozen: false,
  black: false,
  ...s,
});
const codes = (o: OnvifFindings, s: StreamFindings | null) => deriveHealth(o, s, T).problems.map((p) => p.code);

describe('deriveHealth', () => {
  it('all well is online with no problems; no stream probe is not a problem', () => {
    expect(deriveHealth(onvif(), stream(), T)).toEqual({ status: 'online', problems: [] });
    expect(deriveHealth(onvif(), null, T)).toEqual({ status: 'online', problems: [] });
  });

  it('unreachable and auth_failed are offline, even when the stream still plays', () => {
    expect(deriveHealth(onvif({ reachable: false, error: 'timeout' }), stream(), T)).toEqual({
      status: 'offline',
      problems: [{ code: 'unreachable', message: 'timeout' }],
    });
    const auth = deriveHealth(onvif({ authFailed: true }), stream(), T);
    expect(auth.status).toBe('offline');
    expect(auth.problems.map((p) => p.code)).toEqual(['auth_failed']);
  });

  it('an unreachable camera reports no clock or event problems (nothing was measured)', () => {
    expect(codes(onvif({ reachable: false, clockSkewMs: 99_999, eventsSubscribed: false }), null)).toEqual([
      'unreachable',
    ]);
  });

  it('stream problems are degraded', () => {
    for (const [s, code] of [
      [stream({ ok: false, error: 'no packets' }), 'stream_unavailable'],
      [stream({ frozen: true }), 'stream_frozen'],
      [stream({ black: true }), 'stream_black'],
      [stream({ fps: 4 }), 'low_fps'],
    ] as const) {
      const v = deriveHealth(onvif(), s, T);
      expect(v.status).toBe('degraded');
      expect(v.problems.map((p) => p.code)).toEqual([code]);
    }
  });

  it('black wins over frozen (a black picture is also still)', () => {
    expect(codes(onvif(), stream({ black: true, frozen: true }))).toEqual(['stream_black']);
  });

  it('low_fps: below the ratio of the configured rate, or below the floor when nothing is configured', () => {
    expect(codes(onvif(), stream({ fps: 5, expectedFps: 10 }))).toEqual([]);
    expect(codes(onvif(), stream({ fps: 4.9, expectedFps: 10 }))).toEqual(['low_fps']);
    expect(codes(onvif(), stream({ fps: 1.5, expectedFps: null }))).toEqual([]);
    expect(codes(onvif(), stream({ fps: 0.5, expectedFps: null }))).toEqual(['low_fps']);
    expect(deriveHealth(onvif(), stream({ fps: 2 }), T).problems[0]!.message).toBe('2 fps measured of 10 configured');
  });

  it('clock_skew beyond the threshold either way, with a readable message', () => {
    expect(codes(onvif({ clockSkewMs: 5000 }), stream())).toEqual([]);
    const ahead = deriveHealth(onvif({ clockSkewMs: 7_230 }), stream(), T);
    expect(ahead).toMatchObject({ status: 'degraded', problems: [{ code: 'clock_skew' }] });
    expect(ahead.problems[0]!.message).toBe('camera clock is 7.2 s ahead');
    expect(deriveHealth(onvif({ clockSkewMs: -90_000 }), null, T).problems[0]!.message).toBe(
      'camera clock is 90 s behind',
    );
    expect(codes(onvif({ clockSkewMs: null }), null)).toEqual([]);
  });

  it('events_unsubscribed names its reason; events_not_supported instead when the camera has no events', () => {
    const r = deriveHealth(onvif({ eventsSubscribed: false, unsubscribedReason: 'subscribe_refused' }), null, T);
    expect(r.problems).toEqual([
      expect.objectContaining({ code: 'events_unsubscribed', params: { reason: 'subscribe_refused' } }),
    ]);
    expect(r.status).toBe('degraded');
    const none = deriveHealth(onvif({ eventsSubscribed: false, eventsNotSupported: true }), null, T);
    expect(none.problems.map((p) => p.code)).toEqual(['events_not_supported']);
    expect(none.status).toBe('degraded');
  });

  it('event_time_untrusted while event times were replaced since the last probe', () => {
    const r = deriveHealth(onvif({ eventTimesReplaced: 3 }), null, T);
    expect(r.problems).toEqual([expect.objectContaining({ code: 'event_time_untrusted', params: { count: 3 } })]);
    expect(codes(onvif({ eventTimesReplaced: 0 }), null)).toEqual([]);
  });

  it('events_unsubscribed when there is no subscription or pulls stalled', () => {
    expect(codes(onvif({ eventsSubscribed: false }), stream())).toEqual(['events_unsubscribed']);
    expect(codes(onvif({ pullsStalled: true }), stream())).toEqual(['events_unsubscribed']);
    expect(codes(onvif({ authFailed: true, eventsSubscribed: false }), null)).toEqual(['auth_failed']);
  });

  it('lists several problems in a fixed order', () => {
    expect(
      codes(onvif({ clockSkewMs: 60_000, eventsSubscribed: false }), stream({ frozen: true, fps: 1, expectedFps: 10 })),
    ).toEqual(['stream_frozen', 'low_fps', 'clock_skew', 'events_unsubscribed']);
  });
});
