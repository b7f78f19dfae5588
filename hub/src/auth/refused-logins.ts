import type { AuditService } from '../audit/audit.service.js';

/** Distinct usernames kept per summary: enough to see what was tried, bounded against a dictionary attack. */
const MAX_NAMES = 20;
/** IPs tracked at once; beyond this, refusals of further IPs are summed under one "*" entry. */
const MAX_IPS = 10_000;

interface Bucket {
  from: Date;
  count: number;
  reasons: Record<string, number>;
  usernames: Set<string>;
}

/**
 * The audit trail of refused logins without the flood: the first refusal of an IP in a window is recorded at once
 * (`auth.login_failed`, with the username and reason), the rest of that window as one `auth.login_refused` summary
 * (count, reasons, up to 20 usernames). An attacker's 4,000 guesses thus cost two audit rows per window, not 4,000
 * rows kept ten years behind the chain's single head lock. Summaries are per hub process.
 */
export function createRefusedLoginLog(deps: {
  audit: AuditService;
  windowSec: number;
  onError: (err: Error) => void;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;
  const buckets = new Map<string, Bucket>();

  async function writeSummary(ip: string, b: Bucket) {
    if (b.count === 0) return;
    await deps.audit.record(
      { actor: null, roles: [], ip: ip === '*' ? null : ip },
      {
        action: 'auth.login_refused',
        detail: {
          count: b.count,
          reasons: b.reasons,
          usernames: [...b.usernames],
          from: b.from.toISOString(),
          to: new Date(now()).toISOString(),
        },
      },
    );
  }

  /** Writes the summaries of windows that have ended (all of them with `all`). */
  async function flush(all = false) {
    const due = [...buckets].filter(([, b]) => all || now() - b.from.getTime() >= deps.windowSec * 1000);
    for (const [ip, b] of due) {
      buckets.delete(ip);
      await writeSummary(ip, b);
    }
  }

  const timer = setInterval(
    () => flush().catch((err: Error) => deps.onError(err)),
    Math.min(5000, Math.max(250, (deps.windowSec * 1000) / 4)),
  );
  timer.unref();

  return {
    async refused(ip: string, username: string, reason: string): Promise<void> {
      const key = buckets.has(ip) || buckets.size < MAX_IPS ? ip : '*';
      const existing = buckets.get(key);
      if (existing && now() - existing.from.getTime() < deps.windowSec * 1000) {
        existing.count += 1;
        existing.reasons[reason] = (existing.reasons[reason] ?? 0) + 1;
        if (existing.usernames.size < MAX_NAMES) existing.usernames.add(username);
        return;
      }
      if (existing) {
        buckets.delete(key);
        await writeSummary(key, existing);
      }
      buckets.set(key, { from: new Date(now()), count: 0, reasons: {}, usernames: new Set() });
      await deps.audit.record(
        { actor: username, roles: [], ip },
        { action: 'auth.login_failed', target: username, detail: { reason } },
      );
    },

    flush,

    async close() {
      clearInterval(timer);
      await flush(true);
    },
  };
}
export type RefusedLoginLog = ReturnType<typeof createRefusedLoginLog>;
