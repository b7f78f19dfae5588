import type { SiteTokenItem } from '@camhub/shared';
import type pg from 'pg';
import { withTransaction } from '../db/queryable.js';

/** What the login throttle knows of a user and an IP when an attempt is about to be checked. */
export interface AttemptStats {
  /** Failures (pending included) for this user in the window since their last success. */
  userFailures: number;
  /** Failures from this IP in the window, whoever they were for. */
  ipFailures: number;
  /** Failures of this (IP, user) pair in the window since the pair's last success. */
  pairFailures: number;
  /** Milliseconds since the pair's last failure (null: none in the window). */
  pairLastMsAgo: number | null;
  userInFlight: number;
  ipInFlight: number;
  /** This IP logged in as this user during the known-IP period. */
  knownIp: boolean;
}

/** Why the throttle refuses an attempt without checking its password. */
export interface LoginRefusal {
  refused: 'busy' | 'ip' | 'user_locked' | 'pair_wait';
  retryAfterSec: number;
}

interface AttemptStatsRow {
  user_failures: number;
  ip_failures: number;
  pair_failures: number;
  pair_last_ms_ago: number | null;
  user_in_flight: number;
  ip_in_flight: number;
  known_ip: boolean;
}

interface SessionUserRow {
  session_id: string;
  user_id: string;
  username: string;
  roles: string[];
  sites: string[] | null;
}

interface SiteTokenRow {
  id: string;
  site: string;
  label: string | null;
  created_at: Date;
  revoked_at: Date | null;
}

const toSiteToken = (r: SiteTokenRow): SiteTokenItem => ({
  id: r.id,
  site: r.site,
  label: r.label,
  createdAt: r.created_at.toISOString(),
  revokedAt: r.revoked_at?.toISOString() ?? null,
});

/** Sessions, login attempts and site tokens: the I/O behind authentication. */
export function createAuthRepository(pool: pg.Pool) {
  const db = pool;
  return {
    async createSession(s: { id: string; userId: string; refreshHash: string; expiresAt: Date; ip: string | null }) {
      await db.query('INSERT INTO sessions (id, user_id, refresh_hash, expires_at, ip) VALUES ($1, $2, $3, $4, $5)', [
        s.id,
        s.userId,
        s.refreshHash,
        s.expiresAt,
        s.ip,
      ]);
    },

    /** The user behind a live session (not revoked, not expired, user enabled); null otherwise. */
    async sessionUser(sessionId: string, userId: string): Promise<SessionUserRow | null> {
      const { rows } = await db.query<SessionUserRow>(
        `SELECT s.id AS session_id, u.id AS user_id, u.username, u.roles, u.sites
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > now() AND NOT u.disabled`,
        [sessionId, userId],
      );
      return rows[0] ?? null;
    },

    /** Swaps the refresh token of a live session atomically: a stolen, already-used refresh token matches nothing. */
    async rotateRefresh(oldHash: string, newHash: string) {
      const { rows } = await db.query<{ id: string; user_id: string; expires_at: Date }>(
        `WITH rotated AS (
           UPDATE sessions s SET refresh_hash = $2
           FROM users u
           WHERE s.refresh_hash = $1 AND u.id = s.user_id AND s.revoked_at IS NULL AND s.expires_at > now()
             AND NOT u.disabled
           RETURNING s.id, s.user_id, s.expires_at
         ), remembered AS (
           INSERT INTO session_refresh_used (refresh_hash, session_id) SELECT $1, id FROM rotated
           ON CONFLICT DO NOTHING
         )
         SELECT id, user_id, expires_at FROM rotated`,
        [oldHash, newHash],
      );
      const r = rows[0];
      return r ? { sessionId: r.id, userId: r.user_id, expiresAt: r.expires_at } : null;
    },

    /**
     * A refresh token exchanged before and presented again: someone holds a copy. Ends the session it belonged to
     * (every token of that login) and says whose it was; null when the token was never issued.
     */
    async revokeReusedRefresh(hash: string): Promise<{ sessionId: string; userId: string; username: string } | null> {
      const { rows } = await db.query<{ session_id: string; user_id: string; username: string }>(
        `UPDATE sessions s SET revoked_at = COALESCE(s.revoked_at, now())
         FROM session_refresh_used r, users u
         WHERE r.refresh_hash = $1 AND s.id = r.session_id AND u.id = s.user_id
         RETURNING s.id AS session_id, s.user_id, u.username`,
        [hash],
      );
      const r = rows[0];
      return r ? { sessionId: r.session_id, userId: r.user_id, username: r.username } : null;
    },

    async revokeSession(sessionId: string): Promise<boolean> {
      const { rowCount } = await db.query(
        'UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL',
        [sessionId],
      );
      return (rowCount ?? 0) > 0;
    },

    async revokeUserSessions(userId: string): Promise<number> {
      const { rowCount } = await db.query(
        'UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL',
        [userId],
      );
      return rowCount ?? 0;
    },

    /**
     * Reserves a login attempt before its password is checked: under per-user and per-IP advisory locks (always taken
     * in that order, so two logins cannot deadlock), reads the counts, lets `decide` refuse, and otherwise inserts a
     * pending row that counts as a failure until `finishAttempt`. Parallel guesses therefore see each other.
     */
    async reserveAttempt(
      username: string,
      ip: string,
      windows: { failureWindowSec: number; knownIpDays: number },
      decide: (stats: AttemptStats) => LoginRefusal | null,
    ): Promise<{ id: string } | LoginRefusal> {
      return withTransaction(pool, async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock(1901, hashtext($1))', [username]);
        await tx.query('SELECT pg_advisory_xact_lock(1902, hashtext($1))', [ip]);
        const { rows } = await tx.query<AttemptStatsRow>(
          `WITH recent AS (
             SELECT username, ip, success, pending, at FROM login_attempts
             WHERE (username = $1 OR ip = $2) AND at > clock_timestamp() - make_interval(secs => $3)
           ), last_user_ok AS (
             SELECT COALESCE(max(at), '-infinity') AS at FROM recent WHERE username = $1 AND success
           ), last_pair_ok AS (
             SELECT COALESCE(max(at), '-infinity') AS at FROM recent WHERE username = $1 AND ip = $2 AND success
           )
           SELECT
             (SELECT count(*)::int FROM recent WHERE username = $1 AND NOT success
               AND at > (SELECT at FROM last_user_ok)) AS user_failures,
             (SELECT count(*)::int FROM recent WHERE ip = $2 AND NOT success) AS ip_failures,
             (SELECT count(*)::int FROM recent WHERE username = $1 AND ip = $2 AND NOT success
               AND at > (SELECT at FROM last_pair_ok)) AS pair_failures,
             (SELECT (extract(epoch FROM clock_timestamp() - max(at)) * 1000)::float8 FROM recent
               WHERE username = $1 AND ip = $2 AND NOT success) AS pair_last_ms_ago,
             (SELECT count(*)::int FROM recent WHERE username = $1 AND pending
               AND at > clock_timestamp() - interval '60 seconds') AS user_in_flight,
             (SELECT count(*)::int FROM recent WHERE ip = $2 AND pending
               AND at > clock_timestamp() - interval '60 seconds') AS ip_in_flight,
             EXISTS (SELECT 1 FROM login_attempts WHERE username = $1 AND ip = $2 AND success
               AND at > now() - make_interval(days => $4)) AS known_ip`,
          [username, ip, windows.failureWindowSec, windows.knownIpDays],
        );
        const r = rows[0]!;
        const refusal = decide({
          userFailures: r.user_failures,
          ipFailures: r.ip_failures,
          pairFailures: r.pair_failures,
          pairLastMsAgo: r.pair_last_ms_ago,
          userInFlight: r.user_in_flight,
          ipInFlight: r.ip_in_flight,
          knownIp: r.known_ip,
        });
        if (refusal) return refusal;
        const inserted = await tx.query<{ id: string }>(
          `INSERT INTO login_attempts (username, ip, success, pending, at) VALUES ($1, $2, false, true, clock_timestamp())
           RETURNING id::text`,
          [username, ip],
        );
        return { id: inserted.rows[0]!.id };
      });
    },

    /** The end of a reserved attempt's check: a success stops counting as a failure. */
    async finishAttempt(id: string, success: boolean) {
      await db.query('UPDATE login_attempts SET pending = false, success = $2 WHERE id = $1', [id, success]);
    },

    /** Forgets a user's failures (password reset by an admin, or the bootstrap admin at start). */
    async clearFailures(username: string) {
      await db.query('DELETE FROM login_attempts WHERE username = $1 AND NOT success', [username]);
    },

    async createSiteToken(t: { id: string; site: string; tokenHash: string; label: string | null }) {
      const { rows } = await db.query<SiteTokenRow>(
        `INSERT INTO site_tokens (id, site, token_hash, label) VALUES ($1, $2, $3, $4)
         RETURNING id, site, label, created_at, revoked_at`,
        [t.id, t.site, t.tokenHash, t.label],
      );
      return toSiteToken(rows[0]!);
    },

    async siteForToken(tokenHash: string): Promise<string | null> {
      const { rows } = await db.query<{ site: string }>(
        'SELECT site FROM site_tokens WHERE token_hash = $1 AND revoked_at IS NULL',
        [tokenHash],
      );
      return rows[0]?.site ?? null;
    },

    async listSiteTokens(): Promise<SiteTokenItem[]> {
      const { rows } = await db.query<SiteTokenRow>(
        'SELECT id, site, label, created_at, revoked_at FROM site_tokens ORDER BY site, created_at',
      );
      return rows.map(toSiteToken);
    },

    async revokeSiteToken(id: string): Promise<SiteTokenItem | null> {
      const { rows } = await db.query<SiteTokenRow>(
        `UPDATE site_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1
         RETURNING id, site, label, created_at, revoked_at`,
        [id],
      );
      return rows[0] ? toSiteToken(rows[0]) : null;
    },

    /** Housekeeping for retention: old attempts and long-dead sessions. */
    async pruneAuth(attemptsBefore: Date, sessionsBefore: Date, batch: number): Promise<number> {
      const a = await db.query(
        `DELETE FROM login_attempts WHERE id IN (SELECT id FROM login_attempts WHERE at < $1 LIMIT $2)`,
        [attemptsBefore, batch],
      );
      const s = await db.query(
        `DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at < $1 LIMIT $2)`,
        [sessionsBefore, batch],
      );
      return (a.rowCount ?? 0) + (s.rowCount ?? 0);
    },
  };
}
export type AuthRepository = ReturnType<typeof createAuthRepository>;
