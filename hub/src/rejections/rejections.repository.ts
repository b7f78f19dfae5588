import type { RejectionReason } from '@camhub/shared';
import type { Queryable } from '../db/queryable.js';
import type { Rejection } from '../ingest/ingest-types.js';

/** A stored rejection reads back exactly as it was queued. */
export type RejectionItem = Rejection;

export function createRejectionsRepository(db: Queryable) {
  return {
    async latest(limit: number, reason?: string): Promise<RejectionItem[]> {
      const values: unknown[] = [limit];
      const where = reason ? `WHERE reason = $${values.push(reason)}` : '';
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
         ${where} ORDER BY received_at DESC, id DESC LIMIT $1`,
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
