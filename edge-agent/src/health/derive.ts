import type { CameraHealthStatus, Problem } from '@camhub/shared';

/** What the ONVIF probe found. */
export interface OnvifFindings {
  reachable: boolean;
  /** The camera refused our credentials (after the clock was re-measured). */
  authFailed: boolean;
  /** Why it was unreachable or refused, for people. */
  error: string | null;
  clockSkewMs: number | null;
  eventsSubscribed: boolean;
  /** The PullPoint loop has not completed a pull for longer than it should have. */
  pullsStalled: boolean;
  /** Why there is no subscription (a machine code from the PullPoint loop), null while subscribed. */
  unsubscribedReason?: string | null;
  /** The camera has no events service, or refuses PullPoint as not implemented. */
  eventsNotSupported?: boolean;
  /** Event times replaced by the receive time since the last probe (camera time beyond the tolerance). */
  eventTimesReplaced?: number;
}

/** What the stream probe found; null when no stream probe ran (disabled, or no stream URI and nothing to say). */
export interface StreamFindings {
  ok: boolean;
  error: string | null;
  fps: number | null;
  /** Frame rate the camera is configured for (profile FrameRateLimit, else what the stream declares). */
  expectedFps: number | null;
  /** From the latest freeze/black detector run; undefined while none has run. */
  frozen?: boolean;
  black?: boolean;
}

export interface HealthThresholds {
  clockSkewMaxMs: number;
  /** low_fps below this share of the expected frame rate… */
  lowFpsRatio: number;
  /** …or below this many frames per second, whatever the camera is configured for. */
  lowFpsFloor: number;
}

export interface HealthVerdict {
  status: CameraHealthStatus;
  problems: Problem[];
}

const OFFLINE_CODES = new Set(['unreachable', 'auth_failed']);

const fmt = (n: number) => (Math.round(n * 10) / 10).toString();

/**
 * Problems and status from one probe's findings. Pure: the same findings always give the same verdict.
 * - offline: the camera cannot be used from here at all (`unreachable`, `auth_failed`), even if its RTSP still plays.
 * - degraded: it answers, but something a person must look at is wrong (stream missing, frozen, black, slow; clock
 *   off; no event subscription).
 * - online: nothing wrong.
 * Problems are listed in a fixed order, so a change in the list means a change in the camera.
 */
export function deriveHealth(onvif: OnvifFindings, stream: StreamFindings | null, t: HealthThresholds): HealthVerdict {
  const problems: Problem[] = [];
  if (!onvif.reachable) {
    problems.push({ code: 'unreachable', message: onvif.error ?? 'camera does not answer ONVIF' });
  } else if (onvif.authFailed) {
    problems.push({ code: 'auth_failed', message: onvif.error ?? 'camera refuses the configured credentials' });
  }
  if (stream && !stream.ok) {
    problems.push({ code: 'stream_unavailable', message: stream.error ?? 'no video packets read from the stream' });
  } else if (stream) {
    // A black picture is also a still one: report what a person would call it.
    if (stream.black) problems.push({ code: 'stream_black', message: 'the picture is black' });
    else if (stream.frozen) problems.push({ code: 'stream_frozen', message: 'the picture does not change' });
    if (stream.fps !== null) {
      const floor = Math.max(t.lowFpsFloor, stream.expectedFps ? stream.expectedFps * t.lowFpsRatio : 0);
      if (stream.fps < floor) {
        const expected = stream.expectedFps ? ` of ${fmt(stream.expectedFps)} configured` : '';
        problems.push({ code: 'low_fps', message: `${fmt(stream.fps)} fps measured${expected}` });
      }
    }
  }
  if (onvif.reachable && onvif.clockSkewMs !== null && Math.abs(onvif.clockSkewMs) > t.clockSkewMaxMs) {
    const dir = onvif.clockSkewMs > 0 ? 'ahead' : 'behind';
    problems.push({
      code: 'clock_skew',
      message: `camera clock is ${fmt(Math.abs(onvif.clockSkewMs) / 1000)} s ${dir}`,
    });
  }
  if (onvif.eventTimesReplaced) {
    problems.push({
      code: 'event_time_untrusted',
      message: `${onvif.eventTimesReplaced} event time(s) from the camera were implausible and replaced by the receive time`,
      params: { count: onvif.eventTimesReplaced },
    });
  }
  if (onvif.reachable && !onvif.authFailed && onvif.eventsNotSupported) {
    problems.push({ code: 'events_not_supported', message: 'the camera offers no working ONVIF event subscription' });
  } else if (onvif.reachable && !onvif.authFailed && (!onvif.eventsSubscribed || onvif.pullsStalled)) {
    const reason = onvif.eventsSubscribed ? 'pulls_stalled' : (onvif.unsubscribedReason ?? 'unknown');
    problems.push({
      code: 'events_unsubscribed',
      message: onvif.eventsSubscribed ? 'event pulls have stalled' : `no live event subscription (${reason})`,
      params: { reason },
    });
  }
  const status: CameraHealthStatus = problems.some((p) => OFFLINE_CODES.has(p.code))
    ? 'offline'
    : problems.length > 0
      ? 'degraded'
      : 'online';
  return { status, problems };
}
