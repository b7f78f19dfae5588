import { describe, expect, it } from 'vitest';
import { IngestBatcher } from './batcher.js';
import type { IngestBatch } from './ingest-types.js';

const ROOT = 'camhub/v1';
const event = (id: string, seq: number) =>
  Buffer.from(
    JSON.stringify({
      v: 1,
      id,
      site: 's1',
      camera: 'c1',
      seq,
      type: 'motion',
      state: 'start',
      at: '2026-11-22T12:00:00.000Z',
      source: { kind: 'onvif' },
    }),
  );
const ID_A = '01936b7e-8c1a-7c35-9f0e-3b1d2a4c5e6f';
const ID_B = '01936b7e-8c1a-7c35-9f0e-3b1d2a4c5e70';
const TOPIC = `${ROOT}/s1/cameras/c1/events`;

function harness(recentEventIds: number) {
  const persisted: IngestBatch[] = [];
  const durable: number[] = [];
  let repeats = 0;
  let releaseFirst: () => void = () => undefined;
  const firstBlocked = new Promise<void>((r) => (releaseFirst = r));
  const batcher = new IngestBatcher({
    maxMessages: 2,
    maxWaitMs: 10_000,
    topicRoot: ROOT,
    rejectionPayloadMaxBytes: 1024,
    recentEventIds,
    onRepeat: () => (repeats += 1),
    persist: async (batch) => {
      if (persisted.length === 0) await firstBlocked;
      persisted.push(batch);
    },
    onDurable: (_generation, acks) => durable.push(acks),
  });
  return { batcher, persisted, durable, repeats: () => repeats, releaseFirst };
}

describe('IngestBatcher recent-id window', () => {
  it('acknowledges a repeat of a recent event without queueing it again, only after the first copy is durable', async () => {
    const h = harness(10);
    h.batcher.add(TOPIC, event(ID_A, 1), 1, 0);
    h.batcher.add(TOPIC, event(ID_B, 2), 1, 0); // seals batch 1 (blocked in persist)
    h.batcher.add(TOPIC, event(ID_A.toUpperCase(), 1), 1, 0);
    h.batcher.seal(); // batch 2: only the repeat
    await new Promise((r) => setTimeout(r, 20));
    expect(h.durable).toEqual([]); // the repeat's ack waits for batch 1
    h.releaseFirst();
    await h.batcher.drain();
    expect(h.persisted).toHaveLength(1);
    expect(h.persisted[0]!.accepted.map((m) => (m.payload as { id: string }).id)).toEqual([ID_A, ID_B]);
    expect(h.durable).toEqual([2, 1]);
    expect(h.repeats()).toBe(1);
  });

  it('queues every copy when the window is off, leaving duplicates to PostgreSQL', async () => {
    const h = harness(0);
    h.releaseFirst();
    h.batcher.add(TOPIC, event(ID_A, 1), 1, 0);
    h.batcher.add(TOPIC, event(ID_A, 1), 1, 0);
    await h.batcher.drain();
    expect(h.persisted[0]!.accepted).toHaveLength(2);
    expect(h.repeats()).toBe(0);
  });

  it('forgets the oldest ids beyond the window', async () => {
    const h = harness(1);
    h.releaseFirst();
    h.batcher.add(TOPIC, event(ID_A, 1), 1, 0);
    h.batcher.add(TOPIC, event(ID_B, 2), 1, 0);
    h.batcher.add(TOPIC, event(ID_A, 1), 1, 0); // A was pushed out by B: queued again
    await h.batcher.drain();
    expect(h.persisted.flatMap((b) => b.accepted)).toHaveLength(3);
    expect(h.repeats()).toBe(0);
  });
});

describe('IngestBatcher concurrent persistence', () => {
  it('persists several batches at once but acknowledges them in seal order', async () => {
    const started: number[] = [];
    const finish = new Map<number, () => void>();
    const durable: number[] = [];
    const batcher = new IngestBatcher({
      maxMessages: 1,
      maxWaitMs: 10_000,
      topicRoot: ROOT,
      rejectionPayloadMaxBytes: 1024,
      concurrency: 2,
      persist: (batch) => {
        const seq = (batch.accepted[0]!.payload as { seq: number }).seq;
        started.push(seq);
        return new Promise<void>((r) => finish.set(seq, r));
      },
      onDurable: () => durable.push(durable.length + 1),
    });
    batcher.add(TOPIC, event(ID_A, 1), 1, 0);
    batcher.add(TOPIC, event(ID_B, 2), 1, 0);
    batcher.add(TOPIC, event('01936b7e-8c1a-7c35-9f0e-3b1d2a4c5e71', 3), 1, 0);
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toEqual([1, 2]); // the third waits for a slot
    finish.get(2)!();
    await new Promise((r) => setTimeout(r, 10));
    expect(durable).toEqual([]); // batch 2 is durable, but batch 1 is not: nothing is acknowledged yet
    expect(started).toEqual([1, 2, 3]);
    finish.get(1)!();
    finish.get(3)!();
    await batcher.drain();
    expect(durable).toEqual([1, 2, 3]);
  });

  it('acknowledges nothing after a batch that never became durable (stopped)', async () => {
    const durable: number[] = [];
    let calls = 0;
    const batcher = new IngestBatcher({
      maxMessages: 1,
      maxWaitMs: 10_000,
      topicRoot: ROOT,
      rejectionPayloadMaxBytes: 1024,
      concurrency: 2,
      persist: async () => {
        calls += 1;
        if (calls === 1) throw new Error('redis down');
      },
      onDurable: (_generation, acks) => durable.push(acks),
    });
    batcher.add(TOPIC, event(ID_A, 1), 1, 0);
    batcher.add(TOPIC, event(ID_B, 2), 1, 0);
    await new Promise((r) => setTimeout(r, 20));
    batcher.stop();
    await batcher.drain();
    expect(durable).toEqual([]);
  });

  it('rejects an event dated beyond the future tolerance, keeping it with its reason (issue 19: 9999-12-31)', async () => {
    const persisted: IngestBatch[] = [];
    const batcher = new IngestBatcher({
      maxMessages: 2,
      maxWaitMs: 10_000,
      topicRoot: ROOT,
      rejectionPayloadMaxBytes: 1024,
      futureToleranceMs: 300_000,
      now: () => new Date('2026-11-22T12:00:00.000Z'),
      persist: async (batch) => {
        persisted.push(batch);
      },
      onDurable: () => undefined,
    });
    const future = JSON.parse(event(ID_A, 1).toString()) as Record<string, unknown>;
    future.at = '9999-12-31T00:00:00.000Z';
    batcher.add(TOPIC, Buffer.from(JSON.stringify(future)), 1, 1);
    const nearFuture = JSON.parse(event(ID_B, 2).toString()) as Record<string, unknown>;
    nearFuture.at = '2026-11-22T12:04:00.000Z'; // within 5 minutes: a clock a little ahead is fine
    batcher.add(TOPIC, Buffer.from(JSON.stringify(nearFuture)), 1, 1);
    await batcher.drain();
    expect(persisted[0]!.accepted.map((a) => (a.payload as { id: string }).id)).toEqual([ID_B]);
    expect(persisted[0]!.rejected).toHaveLength(1);
    expect(persisted[0]!.rejected[0]).toMatchObject({ reason: 'future_time', topic: TOPIC });
    expect(persisted[0]!.rejected[0]!.payload).toContain('9999-12-31');
  });
});
