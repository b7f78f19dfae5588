import { createHash } from 'node:crypto';

/** The fields an audit entry's hash covers (everything but the hash itself). */
export interface AuditFields {
  seq: number;
  at: string;
  actor: string | null;
  roles: string[];
  ip: string | null;
  action: string;
  target: string | null;
  detail: Record<string, unknown>;
}

export const GENESIS_HASH = '0'.repeat(64);

/**
 * JSON with object keys sorted at every level: the same entry always serialises to the same bytes, including after
 * a round trip through jsonb (which reorders keys).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

export function entryHash(prevHash: string, e: AuditFields): string {
  const canonical = canonicalJson({
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    roles: e.roles,
    ip: e.ip,
    action: e.action,
    target: e.target,
    detail: e.detail,
  });
  return createHash('sha256').update(`camhub-audit-v1\n${prevHash}\n${canonical}`).digest('hex');
}

export interface ChainProblem {
  seq: number;
  problem: 'hash_mismatch' | 'prev_hash_mismatch' | 'gap' | 'head_mismatch';
  detail: string;
}

/** Checks entries in seq order, carried across calls so the table can be read in pages. */
export class ChainVerifier {
  private expectedSeq: number;
  private prevHash: string;
  readonly problems: ChainProblem[] = [];
  checked = 0;

  constructor(base: { seq: number; hash: string }) {
    this.expectedSeq = base.seq + 1;
    this.prevHash = base.hash;
  }

  add(e: AuditFields & { prevHash: string; hash: string }) {
    this.checked += 1;
    if (e.seq !== this.expectedSeq) {
      this.problems.push({
        seq: e.seq,
        problem: 'gap',
        detail: `expected entry ${this.expectedSeq}, found ${e.seq}: entries were deleted`,
      });
    }
    if (e.prevHash !== this.prevHash) {
      this.problems.push({ seq: e.seq, problem: 'prev_hash_mismatch', detail: 'does not follow the previous entry' });
    }
    const recomputed = entryHash(e.prevHash, e);
    if (recomputed !== e.hash) {
      this.problems.push({ seq: e.seq, problem: 'hash_mismatch', detail: 'content changed after it was written' });
    }
    this.expectedSeq = e.seq + 1;
    // Continue from the stored hash so one edited row is reported once, not as a cascade.
    this.prevHash = e.hash;
  }

  finish(head: { seq: number; hash: string }) {
    if (head.seq !== this.expectedSeq - 1 || head.hash !== this.prevHash) {
      this.problems.push({
        seq: head.seq,
        problem: 'head_mismatch',
        detail: `the chain head says entry ${head.seq}, the table ends at ${this.expectedSeq - 1}: entries were removed`,
      });
    }
    return { ok: this.problems.length === 0, checked: this.checked, problems: this.problems };
  }
}
