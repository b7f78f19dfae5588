import type { RejectionReason } from '@camhub/shared';
import type { Queryable } from '../db/queryable.js';
import type { Rejection } from '../ingest/ingest-types.js';

/** A stored rejection reads back exactly as it was queued. */
export type RejectionItem = Rejection;

export function createRejectionsRepository(db: Queryable) {
  return {
    /**
     * Newest first. `topicPrefixes` limits the list to messages whose topic starts with one of them (a site-limited
     * user sees only its sites' topics; a message on no valid site's topic belongs to nobody's site).
     */
    async latest(limit: number, reason?: string, topicPrefixes?: string[]): Promise<RejectionItem[]> {
      const values: unknown[] = [limit];
      const where: string[] = [];
      if (reason) where.push(`reason = $${values.push(reason)}`);
      if (topicPrefixes) {
        where.push(
          `EXISTS (SELECT 1 FROM unnest($${values.push(topicPrefixes)}::text[]) AS p WHERE starts_with(topic, p))`,
        );
      }
      const { rows } = await db.query<{
        topic: string;
        reason: string;
        detail: string;
        received_at: Date;
        payload: string;
        payload_bytes: number;
        truncated: boolean;
      }>(
        `SELECT topic, reason, detail, received_at, payload, payload_bytes, truncated FROM ingest_rejections
         ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY received_at DESC, id DESC LIMIT $1`,
        values,
      );
      return rows.map((r) => ({
        topic: r.topic,
        reason: r.reason as RejectionReason,
        detail: r.detail,
        receivedAt: r.received_at.toISOString(),
        payload: r.payload,
        payloadBytes: r.payload_bytes,
        truncated: r.truncated,
      }));
    },
  };
}

export type RejectionsRepository = ReturnType<typeof createRejectionsRepository>;
