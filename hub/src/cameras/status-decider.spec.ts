import type { HealthSample } from '@camhub/shared';
import { describe, expect, it } from 'vitest';
import { type CameraFacts, decideStatus, uptime } from './status-decider.js';

const now = new Date('2026-11-22T12:00:00.000Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000);
const sample = (status: HealthSample['status'], at: Date, problems: HealthSample['problems'] = []): HealthSample => ({
  v: 1,
  site: 's',
  camera: 'c',
  at: at.toISOString(),
  status,
  problems,
});
const facts = (o: Partial<CameraFacts> = {}): CameraFacts => ({
  site: 's',
  camera: 'c',
  healthAt: null,
  health: null,
  reportedStatus: null,
  reportedSince: null,
  reportedProblems: [],
  agentState: 'online',
  agentReceivedAt: ago(3600),
  ...o,
});

describe(decideStatus.name, () => {
  it('takes the latest health sample when it is fresh', () => {
    const v = decideStatus(
      facts({ healthAt: ago(10), health: sample('degraded', ago(10), [{ code: 'low_fps', message: '' }]) }),
      now,
      90_000,
    );
    expect(v).toEqual({ status: 'degraded', problems: [{ code: 'low_fps', message: '' }], since: ago(10) });
  });

  it('declares a silent camera offline with no_heartbeat, since its last sample', () => {
    const v = decideStatus(facts({ healthAt: ago(91), health: sample('online', ago(91)) }), now, 90_000);
    expect(v.status).toBe('offline');
    expect(v.problems.map((p) => p.code)).toEqual(['no_heartbeat']);
    expect(v.since).toEqual(ago(91));
  });

  it('says unknown, not online nor offline, when the agent left its last will', () => {
    const v = decideStatus(
      facts({
        healthAt: ago(500),
        health: sample('online', ago(500)),
        agentState: 'offline',
        agentReceivedAt: ago(400),
      }),
      now,
      90_000,
    );
    expect(v).toMatchObject({ status: 'unknown', since: ago(400) });
    expect(v.problems[0]!.code).toBe('agent_offline');
  });

  it('prefers a status message newer than the last sample', () => {
    const v = decideStatus(
      facts({ healthAt: ago(20), health: sample('online', ago(20)), reportedStatus: 'offline', reportedSince: ago(5) }),
      now,
      90_000,
    );
    expect(v.status).toBe('offline');
  });

  it('is unknown before anything was reported', () => {
    expect(decideStatus(facts(), now, 90_000).status).toBe('unknown');
  });
});

describe(uptime.name, () => {
  it('counts time per status and leaves unobserved time out of the ratio', () => {
    const from = new Date('2026-11-01T00:00:00Z');
    const to = new Date('2026-11-01T10:00:00Z');
    const h = (n: number) => new Date(from.getTime() + n * 3600_000);
    const u = uptime(
      'online',
      [
        { to: 'offline', at: h(2) },
        { to: 'unknown', at: h(3) },
        { to: 'online', at: h(5) },
      ],
      from,
      to,
    );
    expect(u.seconds).toEqual({ online: 7 * 3600, offline: 3600, unknown: 2 * 3600, degraded: 0 });
    expect(u.uptimePct).toBeCloseTo(87.5);
  });
});
