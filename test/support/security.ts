import { createHash } from 'node:crypto';
import type { CameraEvent } from '@camhub/shared';
import type { Queryable } from '../../hub/src/db/queryable.js';

/** A small valid-looking JPEG (SOI marker first), unique per seed, with its content reference. */
export function jpeg(seed: string): { ref: string; bytes: Buffer } {
  const bytes = Buffer.concat([
    Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
    Buffer.from(`camhub-test-${seed}`),
    Buffer.from([0xff, 0xd9]),
  ]);
  return { ref: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, bytes };
}

/**
 * Writes events straight into the events table, as ingest stores them: for tests about what happens to stored
 * history (access, retention, export), where going through MQTT would only add waiting.
 */
export async function insertEvents(db: Queryable, events: CameraEvent[], receivedAt = new Date()): Promise<void> {
  for (let i = 0; i < events.length; i += 500) {
    const chunk = events.slice(i, i + 500);
    await db.query(
      `INSERT INTO events (id, site, camera, seq, type, state, at, received_at, source_kind, source_topic, data, snapshot)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[],
                            $7::timestamptz[], $8::timestamptz[], $9::text[], $10::text[], $11::jsonb[], $12::text[])`,
      [
        chunk.map((e) => e.id),
        chunk.map((e) => e.site),
        chunk.map((e) => e.camera),
        chunk.map((e) => e.seq),
        chunk.map((e) => e.type),
        chunk.map((e) => e.state),
        chunk.map((e) => e.at),
        chunk.map(() => receivedAt.toISOString()),
        chunk.map((e) => e.source.kind),
        chunk.map((e) => e.source.topic ?? null),
        chunk.map((e) => (e.data === undefined ? null : JSON.stringify(e.data))),
        chunk.map((e) => e.snapshot ?? null),
      ],
    );
  }
}

export const daysAgo = (days: number, now = Date.now()) => new Date(now - days * 86_400_000).toISOString();
