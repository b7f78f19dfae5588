/**
 * When an event happened, on our clock. The camera's time minus its measured clock offset is the best answer, but
 * only when it is plausible: an event cannot have happened long before we received it (a queued backlog is minutes,
 * not years) or at all after. A camera time farther than `toleranceMs` from the receive time is replaced by the
 * receive time, and the event says so in `data` (issue 18: a device's inconsistent clock dated events 2053).
 */
export interface EventTime {
  at: Date;
  /** The camera's time was not believed: `at` is when we received the message. */
  replaced: boolean;
}

export function eventTime(cameraTime: Date | null, offsetMs: number, receivedAt: Date, toleranceMs: number): EventTime {
  // Missing or impossible (0000-00-00…) times were already left out by normalise: nothing to flag.
  if (!cameraTime) return { at: receivedAt, replaced: false };
  const at = new Date(cameraTime.getTime() - offsetMs);
  if (Math.abs(at.getTime() - receivedAt.getTime()) > toleranceMs) return { at: receivedAt, replaced: true };
  return { at, replaced: false };
}
