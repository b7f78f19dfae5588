import type { UserItem } from '@camhub/shared';
import type { Role } from '../auth/access.js';
import type { Queryable } from '../db/queryable.js';
import { ConflictError } from '../errors.js';

interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  roles: string[];
  sites: string[] | null;
  disabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface UserRecord extends UserItem {
  passwordHash: string;
}

const COLUMNS = 'id, username, password_hash, roles, sites, disabled, created_at, updated_at';

const toRecord = (r: UserRow): UserRecord => ({
  id: r.id,
  username: r.username,
  roles: r.roles as Role[],
  sites: r.sites,
  disabled: r.disabled,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
  passwordHash: r.password_hash,
});

export function createUsersRepository(db: Queryable) {
  return {
    async byUsername(username: string): Promise<UserRecord | null> {
      const { rows } = await db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE username = $1`, [username]);
      return rows[0] ? toRecord(rows[0]) : null;
    },

    async byId(id: string): Promise<UserRecord | null> {
      const { rows } = await db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
      return rows[0] ? toRecord(rows[0]) : null;
    },

    async list(): Promise<UserRecord[]> {
      const { rows } = await db.query<UserRow>(`SELECT ${COLUMNS} FROM users ORDER BY username`);
      return rows.map(toRecord);
    },

    async insert(u: {
      id: string;
      username: string;
      passwordHash: string;
      roles: Role[];
      sites: string[] | null;
    }): Promise<UserRecord> {
      try {
        const { rows } = await db.query<UserRow>(
          `INSERT INTO users (id, username, password_hash, roles, sites) VALUES ($1, $2, $3, $4, $5)
           RETURNING ${COLUMNS}`,
          [u.id, u.username, u.passwordHash, u.roles, u.sites],
        );
        return toRecord(rows[0]!);
      } catch (err) {
        if ((err as { code?: string }).code === '23505') {
          throw new ConflictError('user_exists', `user ${u.username} already exists`);
        }
        throw err;
      }
    },

    /** Creates or resets a user in one statement (the bootstrap admin): safe when two hubs start at once. */
    async upsert(u: { id: string; username: string; passwordHash: string; roles: Role[] }): Promise<UserRecord> {
      const { rows } = await db.query<UserRow>(
        `INSERT INTO users (id, username, password_hash, roles, sites) VALUES ($1, $2, $3, $4, NULL)
         ON CONFLICT (username) DO UPDATE
           SET password_hash = EXCLUDED.password_hash,
               roles = ARRAY(SELECT DISTINCT unnest(users.roles || EXCLUDED.roles) ORDER BY 1),
               disabled = false, updated_at = now()
         RETURNING ${COLUMNS}`,
        [u.id, u.username, u.passwordHash, u.roles],
      );
      return toRecord(rows[0]!);
    },

    async update(
      username: string,
      patch: { passwordHash?: string; roles?: Role[]; sites?: string[] | null; disabled?: boolean },
    ): Promise<UserRecord | null> {
      const sets: string[] = [];
      const values: unknown[] = [username];
      const set = (col: string, v: unknown) => {
        values.push(v);
        sets.push(`${col} = $${values.length}`);
      };
      if (patch.passwordHash !== undefined) set('password_hash', patch.passwordHash);
      if (patch.roles !== undefined) set('roles', patch.roles);
      if (patch.sites !== undefined) set('sites', patch.sites);
      if (patch.disabled !== undefined) set('disabled', patch.disabled);
      sets.push('updated_at = now()');
      const { rows } = await db.query<UserRow>(
        `UPDATE users SET ${sets.join(', ')} WHERE username = $1 RETURNING ${COLUMNS}`,
        values,
      );
      return rows[0] ? toRecord(rows[0]) : null;
    },

    /** Enabled admins other than `username`: the last one may not be disabled or demoted. */
    async otherActiveAdmins(username: string): Promise<number> {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM users WHERE 'admin' = ANY(roles) AND NOT disabled AND username <> $1`,
        [username],
      );
      return rows[0]!.n;
    },
  };
}
export type UsersRepository = ReturnType<typeof createUsersRepository>;
