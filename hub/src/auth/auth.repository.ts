import type { SiteTokenItem } from '@camhub/shared';
import type { Queryable } from '../db/queryable.js';

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
export function createAuthRepository(db: Queryable) {
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
        `UPDATE sessions s SET refresh_hash = $2
         FROM users u
         WHERE s.refresh_hash = $1 AND u.id = s.user_id AND s.revoked_at IS NULL AND s.expires_at > now()
           AND NOT u.disabled
         RETURNING s.id, s.user_id, s.expires_at`,
        [oldHash, newHash],
      );
      const r = rows[0];
      return r ? { sessionId: r.id, userId: r.user_id, expiresAt: r.expires_at } : null;
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

    async recordAttempt(username: string, ip: string, success: boolean) {
      await db.query('INSERT INTO login_attempts (username, ip, success) VALUES ($1, $2, $3)', [username, ip, success]);
    },

    /**
     * Counts for the login throttle: failures for this user and from this IP inside the window (failures before the
     * user's last success do not count), and whether this IP logged in as this user recently.
     */
    async attemptStats(username: string, ip: string, windowSec: number, knownIpDays: number) {
      const { rows } = await db.query<{ user_failures: number; ip_failures: number; known_ip: boolean }>(
        `SELECT
           (SELECT count(*)::int FROM login_attempts
             WHERE username = $1 AND NOT success AND at > now() - make_interval(secs => $3)
               AND at > COALESCE((SELECT max(at) FROM login_attempts WHERE username = $1 AND success), '-infinity'))
             AS user_failures,
           (SELECT count(*)::int FROM login_attempts
             WHERE ip = $2 AND NOT success AND at > now() - make_interval(secs => $3)) AS ip_failures,
           EXISTS (SELECT 1 FROM login_attempts
             WHERE username = $1 AND ip = $2 AND success AND at > now() - make_interval(days => $4)) AS known_ip`,
        [username, ip, windowSec, knownIpDays],
      );
      return {
        userFailures: rows[0]!.user_failures,
        ipFailures: rows[0]!.ip_failures,
        knownIp: rows[0]!.known_ip,
      };
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
