import type { Redis } from 'ioredis';
import type { AuditService } from '../audit/audit.service.js';

/** Distinct usernames kept per summary: enough to see what was tried, bounded against a dictionary attack. */
const MAX_NAMES = 20;
/** IPs tracked at once; beyond this, refusals of further IPs are summed under one "*" entry. */
const MAX_IPS = 10_000;

// KEYS: bucket hash, its usernames set, the pending index, the "*" bucket, its usernames set.
// ARGV: window end (ms, the index's score), key lifetime (s), reason, username, now (ISO), max IPs, max names.
// Returns 1 when this refusal is the first of its IP in the window (its caller records it on its own), else 0.
const RECORD = `
local bucket, names = KEYS[1], KEYS[2]
if redis.call('EXISTS', bucket) == 0 and redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[6]) then
  bucket, names = KEYS[4], KEYS[5]
end
local first = redis.call('HSETNX', bucket, 'from', ARGV[5])
redis.call('ZADD', KEYS[3], 'NX', ARGV[1], bucket)
redis.call('EXPIRE', bucket, ARGV[2])
if first == 1 then return 1 end
redis.call('HINCRBY', bucket, 'count', 1)
redis.call('HINCRBY', bucket, 'r:' .. ARGV[3], 1)
if redis.call('SCARD', names) < tonumber(ARGV[7]) then redis.call('SADD', names, ARGV[4]) end
redis.call('EXPIRE', names, ARGV[2])
return 0
`;

// KEYS: pending index, bucket hash, its usernames set. Takes the bucket if no other hub has: its fields and names.
const CLAIM = `
if redis.call('ZREM', KEYS[1], KEYS[2]) == 0 then return false end
local fields = redis.call('HGETALL', KEYS[2])
local names = redis.call('SMEMBERS', KEYS[3])
redis.call('DEL', KEYS[2], KEYS[3])
return { fields, names }
`;

interface Summary {
  from: string;
  count: number;
  reasons: Record<string, number>;
  usernames: string[];
}

/**
 * The audit trail of refused logins without the flood, one per IP and window however many hubs there are: the first
 * refusal of an IP in a window is recorded at once (`auth.login_failed`, with the username and reason), the rest of
 * that window as one `auth.login_refused` summary (count, reasons, up to 20 usernames). An attacker's 4,000 guesses
 * thus cost two audit rows per window, not 4,000 rows kept ten years behind the chain's single head lock.
 *
 * Windows are fixed slices of time, the same on every hub, counted in Redis: hubs behind a load balancer share one
 * count, and a hub that stops loses nothing. `flush` writes the summaries of ended windows; the maintenance queue runs
 * it on one hub at a time, and a bucket is taken by exactly one flush.
 */
export function createRefusedLoginLog(deps: {
  audit: AuditService;
  redis: Redis;
  prefix: string;
  windowSec: number;
  onError: (err: Error) => void;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;
  const windowMs = deps.windowSec * 1000;
  const base = `${deps.prefix}:refused-logins:`;
  const pending = `${base}pending`;
  const bucketKey = (slot: number, ip: string) => `${base}${slot}:${ip}`;
  // Long enough for a late flush (a hub down for a while) to still find it; bounded so nothing lingers forever.
  const lifetimeSec = Math.max(deps.windowSec * 4, 3600);

  async function writeSummary(ip: string, s: Summary) {
    if (s.count === 0) return;
    await deps.audit.record(
      { actor: null, roles: [], ip: ip === '*' ? null : ip },
      {
        action: 'auth.login_refused',
        detail: {
          count: s.count,
          reasons: s.reasons,
          usernames: s.usernames,
          from: s.from,
          to: new Date(now()).toISOString(),
        },
      },
    );
  }

  function parse(fields: string[], names: string[]): Summary {
    const s: Summary = { from: new Date(now()).toISOString(), count: 0, reasons: {}, usernames: names.sort() };
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const [k, v] = [fields[i]!, fields[i + 1]!];
      if (k === 'from') s.from = v;
      else if (k === 'count') s.count = Number(v);
      else if (k.startsWith('r:')) s.reasons[k.slice(2)] = Number(v);
    }
    return s;
  }

  /** Puts a taken bucket back (its audit write failed), so a later flush writes it. */
  async function restore(bucket: string, s: Summary) {
    const m = deps.redis.multi().hset(bucket, 'from', s.from, 'count', String(s.count));
    for (const [r, n] of Object.entries(s.reasons)) m.hset(bucket, `r:${r}`, String(n));
    if (s.usernames.length) m.sadd(`${bucket}:names`, ...s.usernames);
    m.expire(bucket, lifetimeSec).expire(`${bucket}:names`, lifetimeSec).zadd(pending, now(), bucket);
    await m.exec();
  }

  return {
    async refused(ip: string, username: string, reason: string): Promise<void> {
      const slot = Math.floor(now() / windowMs);
      const bucket = bucketKey(slot, ip);
      const star = bucketKey(slot, '*');
      const first = await deps.redis.eval(
        RECORD,
        5,
        bucket,
        `${bucket}:names`,
        pending,
        star,
        `${star}:names`,
        String((slot + 1) * windowMs),
        String(lifetimeSec),
        reason,
        username,
        new Date(now()).toISOString(),
        String(MAX_IPS),
        String(MAX_NAMES),
      );
      if (first !== 1) return;
      await deps.audit.record(
        { actor: username, roles: [], ip },
        { action: 'auth.login_failed', target: username, detail: { reason } },
      );
    },

    /** Writes the summaries of windows that have ended (of every window with `all`, for tests and shutdown). */
    async flush(all = false): Promise<number> {
      const due = await deps.redis.zrangebyscore(pending, '-inf', all ? '+inf' : String(now()));
      let written = 0;
      for (const bucket of due) {
        const taken = (await deps.redis.eval(CLAIM, 3, pending, bucket, `${bucket}:names`)) as
          [string[], string[]] | null;
        if (!taken) continue; // another hub's flush took it
        const summary = parse(taken[0], taken[1]);
        // `<base><slot>:<ip>`; an IPv6 address has colons of its own.
        const rest = bucket.slice(base.length);
        const ip = rest.slice(rest.indexOf(':') + 1);
        try {
          await writeSummary(ip, summary);
          written += summary.count > 0 ? 1 : 0;
        } catch (err) {
          deps.onError(err as Error);
          await restore(bucket, summary);
        }
      }
      return written;
    },
  };
}
export type RefusedLoginLog = ReturnType<typeof createRefusedLoginLog>;
