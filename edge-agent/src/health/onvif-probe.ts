import { CameraTransportError, errorMessage, SoapFaultError } from '../errors.js';
import type { OnvifClient } from '../onvif/client.js';
import { needsCredentials, parseSystemDateAndTime } from '../onvif/client.js';
import type { PullPointStats } from '../onvif/events.js';
import { type Credentials, soapCall } from '../onvif/soap.js';
import type { OnvifFindings } from './derive.js';

export interface OnvifProbeInput {
  client: OnvifClient;
  stats: PullPointStats | null;
  /** When the camera supervisor connected (null: not yet); a fresh connection gets time to subscribe. */
  connectedAt: number | null;
  requestTimeoutMs: number;
  pullTimeoutSec: number;
  /** Agent shutdown: a probe of a hanging camera must not hold it up for a whole request timeout. */
  signal?: AbortSignal;
  now?: () => number;
}

export interface OnvifProbeResult extends OnvifFindings {
  latencyMs: number | null;
  lastPullAt: string | null;
  pullFailures: number;
}

const DEVICE = 'http://www.onvif.org/ver10/device/wsdl';

/** HTTP Digest refused twice (soap.ts retries once when it has credentials): the credentials are wrong. */
function isHttpAuthRefusal(err: unknown): boolean {
  return err instanceof CameraTransportError && err.httpStatus === 401;
}

function isAuthRefusal(err: unknown): boolean {
  return (err instanceof SoapFaultError && (err.isNotAuthorized || err.httpStatus === 401)) || isHttpAuthRefusal(err);
}

/**
 * One ONVIF health probe: GetSystemDateAndTime (unauthenticated, cheap) gives reachability, latency and the clock;
 * GetDeviceInformation (authenticated) proves the credentials still work. The PullPoint loop's own numbers say
 * whether events flow. Never throws: every failure is a finding.
 */
export async function probeOnvif(input: OnvifProbeInput): Promise<OnvifProbeResult> {
  const { client, stats, requestTimeoutMs } = input;
  const now = input.now ?? Date.now;
  const result: OnvifProbeResult = {
    reachable: false,
    authFailed: false,
    error: null,
    clockSkewMs: client.clockOffsetMs,
    eventsSubscribed: stats?.subscribed ?? false,
    pullsStalled: false,
    // No PullPoint loop yet: the camera is still being connected.
    unsubscribedReason: stats ? (stats.subscribed ? null : stats.unsubscribedReason) : 'connecting',
    eventsNotSupported: stats?.eventsNotSupported ?? false,
    latencyMs: null,
    lastPullAt: stats?.lastPullAt?.toISOString() ?? null,
    pullFailures: stats?.failures ?? 0,
  };
  const call = (action: string, body: string, credentials?: Credentials) =>
    soapCall({
      url: client.deviceServiceUrl,
      action: `${DEVICE}/${action}`,
      body,
      credentials,
      cameraOffsetMs: client.clockOffsetMs ?? 0,
      timeoutMs: requestTimeoutMs,
      signal: input.signal,
    });
  let measuredSkew: number | null = null;
  try {
    const started = now();
    let response;
    try {
      response = await call('GetSystemDateAndTime', '<tds:GetSystemDateAndTime/>');
    } catch (err) {
      // Some firmware wants even this call authenticated (a SOAP Fault, or HTTP 401 asking for Digest).
      if (!needsCredentials(err)) throw err;
      response = await call('GetSystemDateAndTime', '<tds:GetSystemDateAndTime/>', client.credentials);
    }
    const finished = now();
    result.reachable = true;
    result.latencyMs = finished - started;
    const cameraMs = parseSystemDateAndTime(response.body);
    // Whole seconds: the camera's time is the middle of its second, ours the middle of the round trip.
    if (cameraMs !== null) measuredSkew = Math.round(cameraMs + 500 - (started + finished) / 2);
  } catch (err) {
    if (isAuthRefusal(err)) {
      result.reachable = true;
      result.authFailed = true;
    }
    result.error = errorMessage(err);
  }
  if (measuredSkew !== null) {
    const known = client.clockOffsetMs;
    // The client's offset may be refined to milliseconds by PullMessages; keep it unless the clock moved.
    if (known === null || Math.abs(known - measuredSkew) > 1500) {
      result.clockSkewMs = await client.measureClock().catch(() => measuredSkew);
    } else {
      result.clockSkewMs = known;
    }
  }
  if (result.reachable && !result.authFailed) {
    try {
      await call('GetDeviceInformation', '<tds:GetDeviceInformation/>', client.credentials);
    } catch (err) {
      if (isAuthRefusal(err)) {
        result.authFailed = true;
        result.error = `credentials refused: ${errorMessage(err)}`;
      } else if (!(err instanceof SoapFaultError)) {
        // Answered the first call, not the second: it is going away right now.
        result.reachable = false;
        result.error = errorMessage(err);
      }
      // Any other SOAP Fault (action not supported…) still proves the credentials were accepted.
    }
  }
  const graceMs = 2 * requestTimeoutMs + 1000;
  const fresh = input.connectedAt !== null && now() - input.connectedAt < graceMs;
  // A re-subscription takes a request or two: only a gap longer than that is a problem (issue 18: health said
  // online for the 57 s a rebooted camera had no subscription, because two probes in a row were required).
  const since = stats?.unsubscribedSince?.getTime() ?? null;
  const briefGap = since !== null && now() - since < graceMs;
  if ((fresh || briefGap) && !result.eventsSubscribed && !result.eventsNotSupported) {
    result.eventsSubscribed = true; // still subscribing: not a problem yet
    result.unsubscribedReason = null;
  }
  const staleMs = 2 * (input.pullTimeoutSec * 1000 + requestTimeoutMs);
  const lastPull = stats?.lastPullAt?.getTime() ?? null;
  result.pullsStalled = Boolean(stats?.subscribed) && lastPull !== null && now() - lastPull > staleMs;
  return result;
}
