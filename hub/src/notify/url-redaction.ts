import { BadRequestError } from '../errors.js';

/**
 * What stands in for a password inside a URL the API returns (`https://bob:redacted@host/`). The console edits the
 * URL it was shown and sends it back, so the hub has to recognise the marker and keep the stored password.
 */
export const REDACTED_PASSWORD = 'redacted';

/** A URL as it may be shown: a password inside it (`https://user:pass@host/`) is replaced, never returned. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = REDACTED_PASSWORD;
    return u.toString();
  } catch {
    return url; // stored URLs were validated on the way in; an unparseable one has no credentials to hide
  }
}

/**
 * The URL to store when an admin sends `given` over `stored`: a marker password is replaced by the stored one, as
 * long as it still goes to the same place (scheme, host, port) under the same user. Sent anywhere else, the stored
 * password would reach a host it was never meant for, and an admin could read it there, so that is refused.
 */
export function restoreRedactedUrl(given: string, stored: unknown): string {
  let next: URL;
  try {
    next = new URL(given);
  } catch {
    return given; // the channel's own check refuses it with its code
  }
  if (decodeURIComponent(next.password) !== REDACTED_PASSWORD || typeof stored !== 'string') return given;
  let before: URL;
  try {
    before = new URL(stored);
  } catch {
    return given;
  }
  if (!before.password) return given; // nothing stored to restore: the marker is the password they chose
  if (next.origin !== before.origin || next.username !== before.username) {
    throw new BadRequestError(
      'redacted_password_moved',
      'a URL with a redacted password must keep its host and user; type the password to send it elsewhere',
    );
  }
  next.password = before.password;
  return next.toString();
}
