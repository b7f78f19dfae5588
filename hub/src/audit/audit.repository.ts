import type { AuditEntry } from '@camhub/shared';
import type pg from 'pg';
import type { Queryable } from '../db/queryable.js';
import { withTransaction } from '../db/queryable.js';
import { type AuditFields, entryHash } from './audit-chain.js';

interface AuditRow {
  seq: number;
  at: Date;
  actor: string | null;
  roles: string[];
  ip: string | null;
  action: string;
  target: string | null;
  detail: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export type StoredAuditEntry = AuditFields & { prevHash: string; hash: string };

const COLUMNS = 'seq, at, actor, roles, ip, action, target, detail, prev_hash, hash';

// int8 arrives as a string unless the process set a type parser (the CLI does not): convert explicitly.
const toStored = (r: AuditRow): StoredAuditEntry => ({
  seq: Number(r.seq),
  at: r.at.toISOString(),
  actor: r.actor,
  roles: r.roles,
  ip: r.ip,
  action: r.action,
  target: r.target,
  detail: r.detail,
  prevHash: r.prev_hash,
  hash: r.hash,
});

export const toAuditEntry = (e: StoredAuditEntry): AuditEntry => ({
  seq: e.seq,
  at: e.at,
  actor: e.actor,
  roles: e.roles,
  ip: e.ip,
  action: e.action,
  target: e.target,
  detail: e.detail,
  hash: e.hash,
});

export interface AuditFilter {
  actor?: string;
  action?: string;
  from?: string;
  to?: string;
  before?: number;
}

export function createAuditRepository(pool: pg.Pool) {
  return {
    /**
     * Appends under the head row's lock: concurrent appenders (in this or another hub) queue on it, so each entry
     * follows exactly one predecessor and seq has no gaps.
     */
    async append(e: Omit<AuditFields, 'seq' | 'at'>): Promise<StoredAuditEntry> {
      return withTransaction(pool, async (tx) => {
        const { rows } = await tx.query<{ seq: number; hash: string }>(
          'SELECT seq, hash FROM audit_head WHERE id FOR UPDATE',
        );
        const head = { seq: Number(rows[0]!.seq), hash: rows[0]!.hash };
        // jsonb keeps what JSON can say: normalise first so the hash covers exactly what is stored.
        const detail = JSON.parse(JSON.stringify(e.detail)) as Record<string, unknown>;
        const fields: AuditFields = { ...e, detail, seq: head.seq + 1, at: new Date().toISOString() };
        const hash = entryHash(head.hash, fields);
        await tx.query(
          `INSERT INTO audit_log (seq, at, actor, roles, ip, action, target, detail, prev_hash, hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [
            fields.seq,
            fields.at,
            fields.actor,
            fields.roles,
            fields.ip,
            fields.action,
            fields.target,
            detail,
            head.hash,
            hash,
          ],
        );
        await tx.query('UPDATE audit_head SET seq = $1, hash = $2 WHERE id', [fields.seq, hash]);
        return { ...fields, prevHash: head.hash, hash };
      });
    },

    async page(filter: AuditFilter, limit: number): Promise<StoredAuditEntry[]> {
      const where: string[] = [];
      const values: unknown[] = [];
      const add = (sql: string, v: unknown) => {
        values.push(v);
        where.push(sql.replace('?', `$${values.length}`));
      };
      if (filter.actor) add('actor = ?', filter.actor);
      if (filter.action?.endsWith('.')) add("action LIKE ? || '%'", filter.action.replace(/[\\%_]/g, '\\$&'));
      else if (filter.action) add('action = ?', filter.action);
      if (filter.from) add('at >= ?::timestamptz', filter.from);
      if (filter.to) add('at < ?::timestamptz', filter.to);
      if (filter.before) add('seq < ?', filter.before);
      values.push(limit);
      const { rows } = await pool.query<AuditRow>(
        `SELECT ${COLUMNS} FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY seq DESC LIMIT $${values.length}`,
        values,
      );
      return rows.map(toStored);
    },

    async head(db: Queryable = pool) {
      const { rows } = await db.query<{ seq: number; hash: string; base_seq: number; base_hash: string }>(
        'SELECT seq, hash, base_seq, base_hash FROM audit_head WHERE id',
      );
      const r = rows[0]!;
      return { seq: Number(r.seq), hash: r.hash, baseSeq: Number(r.base_seq), baseHash: r.base_hash };
    },

    /** Entries with after < seq <= upTo, ascending: verification reads the whole table in pages. */
    async ascending(after: number, limit: number, upTo: number, db: Queryable = pool): Promise<StoredAuditEntry[]> {
      const { rows } = await db.query<AuditRow>(
        `SELECT ${COLUMNS} FROM audit_log WHERE seq > $1 AND seq <= $3 ORDER BY seq LIMIT $2`,
        [after, limit, upTo],
      );
      return rows.map(toStored);
    },

    /**
     * Removes the oldest entries (before `before`, at most `batch`) and moves the chain's base to the last one
     * removed, in one transaction under the head lock, so verification still starts from a known hash.
     */
    async pruneBefore(before: Date, batch: number): Promise<number> {
      return withTransaction(pool, async (tx) => {
        await tx.query('SELECT 1 FROM audit_head WHERE id FOR UPDATE');
        const { rows } = await tx.query<{ seq: number; hash: string }>(
          `SELECT seq, hash FROM audit_log WHERE seq IN (
             SELECT seq FROM audit_log WHERE at < $1 ORDER BY seq LIMIT $2)
           ORDER BY seq DESC LIMIT 1`,
          [before, batch],
        );
        const last = rows[0];
        if (!last) return 0;
        const del = await tx.query('DELETE FROM audit_log WHERE seq <= $1', [last.seq]);
        await tx.query('UPDATE audit_head SET base_seq = $1, base_hash = $2 WHERE id', [Number(last.seq), last.hash]);
        return del.rowCount ?? 0;
      });
    },
  };
}
export type AuditRepository = ReturnType<typeof createAuditRepository>;
