/**
 * What a camera grants for a subscription lease, and when to renew it.
 *
 * We ask for `leaseSec`, but the camera decides: some grant less (a 120 s cap is common), some ignore
 * InitialTerminationTime and grant their default. Their answer is `TerminationTime` next to `CurrentTime`, both on
 * the camera's clock, so their difference is the granted lease whatever the camera's clock offset. Renewing on our
 * own schedule after a shorter grant loses every event between the expiry and the re-create (issue 18: 20 of 109).
 */

/** Share of the granted lease after which we renew: late enough not to hammer, early enough for one retry. */
export const RENEW_FRACTION = 0.7;
/** A renew is never scheduled sooner than this after the last one, whatever a camera grants. */
export const MIN_RENEW_MS = 1000;

export interface LeaseTimes {
  /** Camera clock, as the camera sent it; optional (some firmware omits it). */
  currentTime?: string;
  terminationTime?: string;
}

/**
 * The lease the camera granted in ms, from its TerminationTime minus its CurrentTime (or minus our estimate of its
 * clock when it sent no CurrentTime). Null when it said nothing usable: then the requested lease is assumed.
 */
export function grantedLeaseMs(times: LeaseTimes, cameraNowMs: number): number | null {
  if (!times.terminationTime) return null;
  const end = Date.parse(times.terminationTime);
  if (Number.isNaN(end)) return null;
  const current = times.currentTime ? Date.parse(times.currentTime) : NaN;
  const ms = end - (Number.isNaN(current) ? cameraNowMs : current);
  // A termination time in the past (a clock that jumped between the two fields) says nothing about the lease.
  return ms > 0 ? ms : null;
}

/** When to renew, as a delay after the lease started: 70 % of what was granted, never after our own `renewSec`. */
export function renewDelayMs(grantedMs: number | null, requestedLeaseSec: number, renewSec: number): number {
  const lease = Math.min(grantedMs ?? requestedLeaseSec * 1000, requestedLeaseSec * 1000);
  return Math.max(Math.min(renewSec * 1000, Math.round(lease * RENEW_FRACTION)), Math.min(MIN_RENEW_MS, lease / 2));
}
