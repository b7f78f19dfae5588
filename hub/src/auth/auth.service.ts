import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { SiteTokenItem, TokenResponse } from '@camhub/shared';
import type { AuditActor, AuditService } from '../audit/audit.service.js';
import { AppError, NotFoundError, UnauthorizedError } from '../errors.js';
import type { UsersRepository } from '../users/users.repository.js';
import type { Role } from './access.js';
import type { AttemptStats, AuthRepository, LoginRefusal } from './auth.repository.js';
import type { SessionPublisher } from './session-events.js';
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
  /** When the presented access token expires (ms since the epoch): long-lived responses end then. */
  expiresAt: number;
}

export class TooManyAttemptsError extends AppError {
  constructor(readonly retryAfterSec: number) {
    super('too_many_attempts', 'too many failed logins; try again later', 429);
  }
}

/** Another check of the same user or IP is running: a parallel burst waits its turn instead of racing the limits. */
export class LoginBusyError extends AppError {
  readonly retryAfterSec = 1;
  constructor() {
    super('login_busy', 'another login for this user or from this address is being checked', 429);
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
  /** Checks in flight at once per user and per IP. */
  concurrentUser: number;
  concurrentIp: number;
  /** Failures of one (IP, user) pair before each further try waits 1 s, 2 s, 4 s… up to pairDelayMaxSec. */
  pairFreeFailures: number;
  pairDelayMaxSec: number;
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
  /** Where refused logins are audited (summed per IP and window); without it, each is recorded on its own. */
  refusedLogins?: { refused: (ip: string, username: string, reason: string) => Promise<void> };
  /** Tells every hub that a session ended, so its open streams close at once. */
  sessions?: SessionPublisher;
}) {
  const { repo, users, audit, settings: s } = deps;
  const refusedLog = deps.refusedLogins ?? {
    refused: async (ip: string, username: string, reason: string) => {
      await audit.record(
        { actor: username, roles: [], ip },
        { action: 'auth.login_failed', target: username, detail: { reason } },
      );
    },
  };

  /**
   * The throttle's rules, decided on counts that already include every attempt reserved before (so parallel guesses
   * see each other). Failures from an IP, or for a user, stop everyone except those who logged in as that user from
   * that IP before (their desk behind the same NAT or proxy); those get a growing wait for their pair instead.
   */
  function decide(st: AttemptStats): LoginRefusal | null {
    if (st.userInFlight >= s.concurrentUser || st.ipInFlight >= s.concurrentIp) {
      return { refused: 'busy', retryAfterSec: 1 };
    }
    if (!st.knownIp && st.ipFailures >= s.ipMaxFailures) return { refused: 'ip', retryAfterSec: s.failureWindowSec };
    if (!st.knownIp && st.userFailures >= s.userMaxFailures) {
      return { refused: 'user_locked', retryAfterSec: s.failureWindowSec };
    }
    const over = st.pairFailures - s.pairFreeFailures;
    if (over > 0 && st.pairLastMsAgo !== null) {
      const delayMs = Math.min(2 ** Math.min(over - 1, 30), s.pairDelayMaxSec) * 1000;
      if (st.pairLastMsAgo < delayMs) {
        return { refused: 'pair_wait', retryAfterSec: Math.max(1, Math.ceil((delayMs - st.pairLastMsAgo) / 1000)) };
      }
    }
    return null;
  }

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
     * Password login with throttling. The attempt is reserved (counted as a failure) before the password is checked,
     * so a burst of parallel guesses cannot all slip under the limits; see `decide` for the rules.
     */
    async login(username: string, password: string, ip: string): Promise<TokenResponse> {
      const name = username.trim().toLowerCase();
      const reserved = await repo.reserveAttempt(
        name,
        ip,
        { failureWindowSec: s.failureWindowSec, knownIpDays: s.knownIpDays },
        decide,
      );
      if ('refused' in reserved) {
        await refusedLog.refused(ip, name, reserved.refused);
        if (reserved.refused === 'busy') throw new LoginBusyError();
        throw new TooManyAttemptsError(reserved.retryAfterSec);
      }
      let user: Awaited<ReturnType<UsersRepository['byUsername']>> = null;
      let ok = false;
      try {
        user = await users.byUsername(name);
        // Unknown users cost a full hash too, so response time does not reveal which usernames exist.
        const matches = await verifyPassword(password, user?.passwordHash ?? (await DUMMY_HASH_PROMISE()));
        ok = !!user && matches && !user.disabled;
        if (!ok) {
          await refusedLog.refused(ip, name, !user ? 'unknown_user' : !matches ? 'bad_password' : 'disabled');
        }
      } finally {
        await repo.finishAttempt(reserved.id, ok);
      }
      if (!ok || !user) throw new UnauthorizedError('wrong username or password', 'invalid_credentials');
      const tokens = await openSession(user.id, ip);
      await audit.record({ actor: name, roles: user.roles, ip }, { action: 'auth.login', target: name });
      return tokens;
    },

    /** Exchanges a refresh token for a new pair; the old refresh token stops working (rotation). */
    async refresh(refreshToken: string, ip: string | null = null): Promise<TokenResponse> {
      const replacement = `chr1.${newSecret()}`;
      const rotated = refreshToken.startsWith('chr1.')
        ? await repo.rotateRefresh(sha256(refreshToken), sha256(replacement))
        : null;
      if (!rotated && refreshToken.startsWith('chr1.')) {
        // A token that was valid once and has been exchanged already: a copy is in someone else's hands. End the
        // whole session, so neither the thief nor the owner goes on with it, and let the owner's streams close.
        const reused = await repo.revokeReusedRefresh(sha256(refreshToken));
        if (reused) {
          await deps.sessions?.publish({ userId: reused.userId, sessionId: reused.sessionId, reason: 'logout' });
          await audit.record(
            { actor: reused.username, roles: [], ip },
            { action: 'auth.refresh_reused', target: reused.username, detail: { session: reused.sessionId } },
          );
        }
      }
      if (!rotated) throw new UnauthorizedError('refresh token is not valid', 'invalid_refresh_token');
      return {
        ...accessToken(rotated.userId, rotated.sessionId),
        refreshToken: replacement,
        refreshExpiresAt: rotated.expiresAt.toISOString(),
      };
    },

    async logout(user: AuthUser, who: AuditActor) {
      await repo.revokeSession(user.sessionId);
      await deps.sessions?.publish({ userId: user.id, sessionId: user.sessionId, reason: 'logout' });
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
        expiresAt: claims.exp * 1000,
      };
    },

    /**
     * Whether a long-lived response may go on for `user`: 'ended' when the session was logged out or revoked or the
     * user disabled, 'changed' when their roles or sites are no longer what the response was opened with.
     */
    async sessionState(user: AuthUser): Promise<'live' | 'ended' | 'changed'> {
      const row = await repo.sessionUser(user.sessionId, user.id);
      if (!row) return 'ended';
      const same = (x: readonly string[] | null, y: readonly string[] | null) =>
        x === null || y === null
          ? x === y
          : x.length === y.length && [...x].sort().join('\0') === [...y].sort().join('\0');
      return same(row.roles, user.roles) && same(row.sites, user.sites) ? 'live' : 'changed';
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
      if (existing) {
        await repo.revokeUserSessions(existing.id);
        await deps.sessions?.publish({ userId: existing.id, reason: 'password' });
      }
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
