import { randomUUID } from 'node:crypto';
import type { CreateUserBody, UpdateUserBody, UserItem } from '@camhub/shared';
import type { AuditActor, AuditService } from '../audit/audit.service.js';
import type { AuthRepository } from '../auth/auth.repository.js';
import { assertPasswordPolicy, RESERVED_USERNAMES } from '../auth/password-policy.js';
import { hashPassword } from '../auth/passwords.js';
import type { SessionChange, SessionPublisher } from '../auth/session-events.js';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.js';
import type { UserRecord, UsersRepository } from './users.repository.js';

const publicView = ({ passwordHash: _hidden, ...user }: UserRecord): UserItem => user;

/** Managing people: used by the admin API and the CLI alike, so both enforce the same rules and are audited. */
export function createUsersService(deps: {
  users: UsersRepository;
  auth: AuthRepository;
  audit: AuditService;
  /** Tells every hub to close the user's open streams (absent in the CLI: they end at their next heartbeat). */
  sessions?: SessionPublisher;
}) {
  const { users, auth, audit } = deps;

  async function mustExist(username: string) {
    const u = await users.byUsername(username);
    if (!u) throw new NotFoundError('user');
    return u;
  }

  return {
    async list(): Promise<UserItem[]> {
      return (await users.list()).map(publicView);
    },

    async get(username: string): Promise<UserItem> {
      return publicView(await mustExist(username));
    },

    async create(body: CreateUserBody, who: AuditActor): Promise<UserItem> {
      // A user named "system" would pass for the hub itself in alert and audit history.
      if (RESERVED_USERNAMES.has(body.username)) {
        throw new BadRequestError('reserved_username', `the username "${body.username}" is reserved`);
      }
      assertPasswordPolicy(body.password);
      const user = await users.insert({
        id: randomUUID(),
        username: body.username,
        passwordHash: await hashPassword(body.password),
        roles: body.roles,
        sites: body.sites ?? null,
      });
      await audit.record(who, {
        action: 'user.create',
        target: user.username,
        detail: { roles: user.roles, sites: user.sites },
      });
      return publicView(user);
    },

    /** Role, site, password or disabled changes; sessions end when the password changes or the user is disabled. */
    async update(username: string, patch: UpdateUserBody, who: AuditActor): Promise<UserItem> {
      if (patch.password !== undefined) assertPasswordPolicy(patch.password);
      const before = await mustExist(username);
      const losesAdmin =
        before.roles.includes('admin') &&
        !before.disabled &&
        (patch.disabled === true || (patch.roles !== undefined && !patch.roles.includes('admin')));
      if (losesAdmin && (await users.otherActiveAdmins(username)) === 0) {
        throw new ConflictError('last_admin', 'this is the last enabled admin; add another admin first');
      }
      const updated = await users.update(username, {
        passwordHash: patch.password !== undefined ? await hashPassword(patch.password) : undefined,
        roles: patch.roles,
        sites: patch.sites,
        disabled: patch.disabled,
      });
      if (!updated) throw new NotFoundError('user');
      if (patch.password !== undefined || patch.disabled === true) await auth.revokeUserSessions(updated.id);
      if (patch.password !== undefined) await auth.clearFailures(username);
      const reason: SessionChange['reason'] | null =
        patch.disabled === true
          ? 'disabled'
          : patch.password !== undefined
            ? 'password'
            : patch.roles !== undefined
              ? 'roles'
              : patch.sites !== undefined
                ? 'sites'
                : null;
      if (reason) await deps.sessions?.publish({ userId: updated.id, reason });
      // The password itself is never recorded, only that it changed.
      const detail: Record<string, unknown> = {};
      if (patch.roles !== undefined) detail.roles = { from: before.roles, to: updated.roles };
      if (patch.sites !== undefined) detail.sites = { from: before.sites, to: updated.sites };
      if (patch.disabled !== undefined) detail.disabled = updated.disabled;
      if (patch.password !== undefined) detail.passwordChanged = true;
      await audit.record(who, { action: 'user.update', target: username, detail });
      return publicView(updated);
    },
  };
}
export type UsersService = ReturnType<typeof createUsersService>;
