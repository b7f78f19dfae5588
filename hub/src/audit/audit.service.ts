import type { AuditAction, AuditEntry, AuditQuery } from '@camhub/shared';
import { ChainVerifier, type ChainProblem } from './audit-chain.js';
import { type AuditRepository, toAuditEntry } from './audit.repository.js';

/** Who did something: a user, an edge agent, the CLI, or nobody yet (a failed login). */
export interface AuditActor {
  actor: string | null;
  roles: string[];
  ip: string | null;
}

export interface AuditRecord {
  action: AuditAction;
  target?: string | null;
  detail?: Record<string, unknown>;
}

export interface AuditVerification {
  ok: boolean;
  checked: number;
  head: { seq: number; hash: string };
  base: { seq: number; hash: string };
  problems: ChainProblem[];
}

export function createAuditService(repo: AuditRepository) {
  return {
    async record(who: AuditActor, what: AuditRecord): Promise<AuditEntry> {
      const stored = await repo.append({
        actor: who.actor,
        roles: who.roles,
        ip: who.ip,
        action: what.action,
        target: what.target ?? null,
        detail: what.detail ?? {},
      });
      return toAuditEntry(stored);
    },

    /** `onlyActor`: police see their own actions only, whatever filter they ask for. */
    async search(q: AuditQuery, onlyActor?: string): Promise<{ items: AuditEntry[]; nextBefore: number | null }> {
      const limit = q.limit ?? 100;
      const rows = await repo.page({ ...q, actor: onlyActor ?? q.actor }, limit);
      const last = rows[rows.length - 1];
      return { items: rows.map(toAuditEntry), nextBefore: rows.length === limit && last ? last.seq : null };
    },

    /**
     * Recomputes every hash from the chain's base up to the head as it is now; reads in pages, never the whole table
     * at once. Entries appended meanwhile lie past that head and are left for the next run.
     */
    async verify(pageSize = 5000): Promise<AuditVerification> {
      const head = await repo.head();
      const verifier = new ChainVerifier({ seq: head.baseSeq, hash: head.baseHash });
      for (let after = head.baseSeq; ;) {
        const page = await repo.ascending(after, pageSize, head.seq);
        for (const e of page) verifier.add(e);
        if (page.length < pageSize) break;
        after = page[page.length - 1]!.seq;
      }
      const result = verifier.finish({ seq: head.seq, hash: head.hash });
      return { ...result, head: { seq: head.seq, hash: head.hash }, base: { seq: head.baseSeq, hash: head.baseHash } };
    },
  };
}
export type AuditService = ReturnType<typeof createAuditService>;
