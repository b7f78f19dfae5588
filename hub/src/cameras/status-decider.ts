import type { CameraViewStatus, HealthSample, Problem } from '@camhub/shared';

export interface CameraFacts {
  site: string;
  camera: string;
  healthAt: Date | null;
  health: HealthSample | null;
  reportedStatus: string | null;
  reportedSince: Date | null;
  reportedProblems: Problem[];
  agentState: string | null;
  agentReceivedAt: Date | null;
}

export interface Verdict {
  status: CameraViewStatus;
  problems: Problem[];
  /** When the condition behind this verdict began, as best the hub knows. */
  since: Date;
}

/**
 * The hub's verdict on a camera. Pure: the same facts and clock always give the same answer.
 * - The agent's last will means nobody can see the camera: `unknown` (not online, not offline).
 * - No health sample for `staleMs` means the camera (or its link) is silent: `offline`, `no_heartbeat`.
 * - Otherwise the newest thing the agent said, health sample or status message, stands.
 */
export function decideStatus(f: CameraFacts, now: Date, staleMs: number): Verdict {
  if (f.agentState === 'offline') {
    return {
      status: 'unknown',
      problems: [
        { code: 'agent_offline', message: `the edge agent of site ${f.site} is offline (last will received)` },
      ],
      since: f.agentReceivedAt ?? now,
    };
  }
  if (f.healthAt && now.getTime() - f.healthAt.getTime() > staleMs) {
    const secs = Math.round((now.getTime() - f.healthAt.getTime()) / 1000);
    return {
      status: 'offline',
      problems: [{ code: 'no_heartbeat', message: `no health sample for ${secs} s` }],
      since: f.healthAt,
    };
  }
  const sampleNewer = f.healthAt && (!f.reportedSince || f.healthAt >= f.reportedSince);
  if (f.health && sampleNewer) {
    return { status: f.health.status, problems: f.health.problems, since: f.healthAt! };
  }
  if (f.reportedStatus && f.reportedSince) {
    return { status: f.reportedStatus as CameraViewStatus, problems: f.reportedProblems, since: f.reportedSince };
  }
  return { status: 'unknown', problems: [{ code: 'no_health_data', message: 'no health reported yet' }], since: now };
}

/** Seconds spent in each status over [from, to), from the status at `from` and the transitions inside the range. */
export function uptime(
  initial: CameraViewStatus,
  transitions: { to: CameraViewStatus; at: Date }[],
  from: Date,
  to: Date,
): { seconds: Record<CameraViewStatus, number>; uptimePct: number | null } {
  const seconds: Record<CameraViewStatus, number> = { online: 0, degraded: 0, offline: 0, unknown: 0 };
  let current = initial;
  let cursor = from.getTime();
  for (const t of transitions) {
    const at = Math.min(Math.max(t.at.getTime(), from.getTime()), to.getTime());
    seconds[current] += (at - cursor) / 1000;
    cursor = at;
    current = t.to;
  }
  seconds[current] += (to.getTime() - cursor) / 1000;
  const known = seconds.online + seconds.degraded + seconds.offline;
  // Time we could not observe (unknown) is neither up nor down: it is left out of the ratio.
  return { seconds, uptimePct: known > 0 ? (100 * (seconds.online + seconds.degraded)) / known : null };
}
