import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { SiteTokenItem, TokenResponse } from '@camhub/shared';
import type { AuditActor, AuditService } from '../audit/audit.service.js';
import { AppError, NotFoundError, UnauthorizedError } from '../errors.js';
import type { UsersRepository } from '../users/users.repository.js';
import type { Role } from './access.js';
import type { AuthRepository } from './auth.repository.js';
import { DUMMY_HASH_PROMISE, hashPassword, verifyPassword } from './passwords.js';
import { signAccessToken, verifyAccessToken } from './tokens.js';

/** The person behind a request, as routes and services see them. */
export interface AuthUser {
  id: string;
  username: string;
  roles: Role[];
  /** Sites this user may see; null = every site. */
  sites: string[] | null;
  sessionId: string;
}

export class TooManyAttemptsError extends AppError {
  constructor(readonly retryAfterSec: number) {
    super('too_many_attempts', 'too many failed logins; try again later', 429);
  }
}

export interface AuthSettings {
  tokenKey: Buffer;
  tokenTtlSec: number;
  refreshTtlSec: number;
  userMaxFailures: number;
  ipMaxFailures: number;
  failureWindowSec: number;
  knownIpDays: number;
  /** Bootstrap upload tokens from AGENT_TOKENS (site → token), beside the hashed ones in the database. */
  envAgentTokens: Map<string, string> | null;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const safeEqual = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};
const newSecret = () => randomBytes(32).toString('base64url');

export function createAuthService(deps: {
  repo: AuthRepository;
  users: UsersRepository;
  audit: AuditService;
  settings: AuthSettings;
}) {
  const { repo, users, audit, settings: s } = deps;

  function accessToken(userId: string, sessionId: string) {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + s.tokenTtlSec;
    return {
      token: signAccessToken({ sub: userId, sid: sessionId, iat: now, exp }, s.tokenKey),
      expiresAt: new Date(exp * 1000).toISOString(),
    };
  }

  /** A new session: the refresh window starts now and does not slide, so a session ends at the latest then. */
  async function openSession(userId: string, ip: string | null): Promise<TokenResponse> {
    const sessionId = randomUUID();
    const refreshToken = `chr1.${newSecret()}`;
    const refreshExpiresAt = new Date(Date.now() + s.refreshTtlSec * 1000);
    await repo.createSession({
      id: sessionId,
      userId,
      refreshHash: sha256(refreshToken),
      expiresAt: refreshExpiresAt,
      ip,
    });
    return { ...accessToken(userId, sessionId), refreshToken, refreshExpiresAt: refreshExpiresAt.toISOString() };
  }

  return {
    /**
     * Password login with throttling: too many failures from one IP make that IP wait; too many for one user lock
     * that user, but only for IPs that have not logged in as them recently, so an attacker cannot keep the admin
     * (or anyone) out of their usual workstation. Locks end when the failure window passes.
     */
    async login(username: string, password: string, ip: string): Promise<TokenResponse> {
      const name = username.trim().toLowerCase();
      const who: AuditActor = { actor: name, roles: [], ip };
      const stats = await repo.attemptStats(name, ip, s.failureWindowSec, s.knownIpDays);
      const refuse = async (reason: string) => {
        await repo.recordAttempt(name, ip, false);
        await audit.record(who, { action: 'auth.login_failed', target: name, detail: { reason } });
      };
      if (stats.ipFailures >= s.ipMaxFailures) {
        await audit.record(who, { action: 'auth.login_throttled', target: name, detail: { reason: 'ip' } });
        throw new TooManyAttemptsError(s.failureWindowSec);
      }
      if (stats.userFailures >= s.userMaxFailures && !stats.knownIp) {
        await refuse('user_locked');
        throw new TooManyAttemptsError(s.failureWindowSec);
      }
      const user = await users.byUsername(name);
      // Unknown users cost a full hash too, so response time does not reveal which usernames exist.
      const ok = await verifyPassword(password, user?.passwordHash ?? (await DUMMY_HASH_PROMISE()));
      if (!user || !ok || user.disabled) {
        await refuse(!user ? 'unknown_user' : !ok ? 'bad_password' : 'disabled');
        throw new UnauthorizedError('wrong username or password', 'invalid_credentials');
      }
      await repo.recordAttempt(name, ip, true);
      const tokens = await openSession(user.id, ip);
      await audit.record({ ...who, roles: user.roles }, { action: 'auth.login', target: name });
      return tokens;
    },

    /** Exchanges a refresh token for a new pair; the old refresh token stops working (rotation). */
    async refresh(refreshToken: string): Promise<TokenResponse> {
      const replacement = `chr1.${newSecret()}`;
      const rotated = refreshToken.startsWith('chr1.')
        ? await repo.rotateRefresh(sha256(refreshToken), sha256(replacement))
        : null;
      if (!rotated) throw new UnauthorizedError('refresh token is not valid', 'invalid_refresh_token');
      return {
        ...accessToken(rotated.userId, rotated.sessionId),
        refreshToken: replacement,
        refreshExpiresAt: rotated.expiresAt.toISOString(),
      };
    },

    async logout(user: AuthUser, who: AuditActor) {
      await repo.revokeSession(user.sessionId);
      await audit.record(who, { action: 'auth.logout', target: user.username });
    },

    /** The user behind a Bearer token or cookie; null when the token is bad, expired, revoked or its user disabled. */
    async authenticate(token: string): Promise<AuthUser | null> {
      const claims = verifyAccessToken(token, s.tokenKey);
      if (!claims) return null;
      const row = await repo.sessionUser(claims.sid, claims.sub);
      if (!row) return null;
      return {
        id: row.user_id,
        username: row.username,
        roles: row.roles as Role[],
        sites: row.sites,
        sessionId: row.session_id,
      };
    },

    /**
     * Whether the session behind `user` still stands (not logged out, revoked or expired, user not disabled), whatever
     * its access token's expiry: long-lived responses (live video) re-check this instead of the token.
     */
    async sessionLive(user: AuthUser): Promise<boolean> {
      return (await repo.sessionUser(user.sessionId, user.id)) !== null;
    },

    /** The site an edge agent's token belongs to, or null. */
    async authenticateAgent(token: string): Promise<string | null> {
      if (!token) return null;
      if (s.envAgentTokens) {
        for (const [site, t] of s.envAgentTokens) if (safeEqual(t, token)) return site;
      }
      return repo.siteForToken(sha256(token));
    },

    /** A new upload token for a site; returned once, stored only as its hash. */
    async createSiteToken(site: string, label: string | null, who: AuditActor) {
      const token = `cht1.${newSecret()}`;
      const item = await repo.createSiteToken({ id: randomUUID(), site, tokenHash: sha256(token), label });
      await audit.record(who, { action: 'site_token.create', target: site, detail: { id: item.id, label } });
      return { ...item, token };
    },

    listSiteTokens: (): Promise<SiteTokenItem[]> => repo.listSiteTokens(),

    async revokeSiteToken(id: string, who: AuditActor): Promise<SiteTokenItem> {
      const item = await repo.revokeSiteToken(id);
      if (!item) throw new NotFoundError('site token');
      await audit.record(who, { action: 'site_token.revoke', target: item.site, detail: { id } });
      return item;
    },

    /** CAMHUB_ADMIN_PASSWORD at start: `admin` exists, holds the admin role, is enabled, has this password. */
    async ensureAdmin(password: string) {
      const existing = await users.byUsername('admin');
      if (existing && existing.roles.includes('admin') && !existing.disabled) {
        if (await verifyPassword(password, existing.passwordHash)) {
          await repo.clearFailures('admin');
          return { created: false, changed: false };
        }
      }
      await users.upsert({
        id: randomUUID(),
        username: 'admin',
        passwordHash: await hashPassword(password),
        roles: ['admin'],
      });
      await repo.clearFailures('admin');
      if (existing) await repo.revokeUserSessions(existing.id);
      await audit.record(
        { actor: 'system', roles: [], ip: null },
        {
          action: existing ? 'user.reset' : 'user.create',
          target: 'admin',
          detail: { source: 'CAMHUB_ADMIN_PASSWORD' },
        },
      );
      return { created: !existing, changed: true };
    },
  };
}
export type AuthService = ReturnType<typeof createAuthService>;
