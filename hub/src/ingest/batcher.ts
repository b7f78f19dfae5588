import { decodeMessage } from '@camhub/shared';
import type { AcceptedMessage, IngestBatch, Rejection } from './ingest-types.js';

export interface BatcherOptions {
  maxMessages: number;
  maxWaitMs: number;
  topicRoot: string;
  rejectionPayloadMaxBytes: number;
  /** Makes a sealed batch durable (queues it); resolves only when it is. */
  persist: (batch: IngestBatch) => Promise<void>;
  /** Called, in order, once a sealed batch is durable: acknowledge its `acks` QoS 1 messages of `generation`. */
  onDurable: (generation: number, acks: number) => void;
  onDecoded?: (outcome: { ok: true; kind: string } | { ok: false; reason: string }) => void;
  onPersistError?: (err: Error, attempt: number) => void;
  /** Wait before persisting again (backpressure: queue too deep). Resolves when it is fine to go on. */
  admit?: () => Promise<void>;
  /**
   * How many recent event ids to remember (0: off). A repeat of one of them is acknowledged with its batch but not
   * queued again. Safe because batches are acknowledged strictly in order: the batch holding the first copy is durable
   * before the repeat is acknowledged, and if this process dies first neither is acknowledged. PostgreSQL's
   * `ON CONFLICT (id)` stays the final arbiter (other hubs, older repeats); this only keeps near-simultaneous copies
   * out of concurrent transactions, where the second insert must wait for the first to commit.
   */
  recentEventIds?: number;
  /** Messages dated more than this ahead of the hub's clock are rejected (`future_time`); 0: no limit. */
  futureToleranceMs?: number;
  /** Called for each repeat dropped by the recent-id window. */
  onRepeat?: () => void;
  /**
   * Sealed batches being persisted at once (default 1). Acknowledgements still go out strictly in batch order: a
   * batch's `onDurable` waits for every earlier batch. Several in flight keep the Redis round trip off the critical
   * path when the event loop is busy reading MQTT (one persist per loop turn capped a single hub near 5,000/s).
   */
  concurrency?: number;
  now?: () => Date;
}

interface OpenBatch {
  generation: number;
  acks: number;
  batch: IngestBatch;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Collects decoded messages into short batches and persists them (a few at once), retrying until each is durable.
 * Acknowledgements go out strictly in batch order, as MQTT requires. The worker never relied on queue order: with
 * several workers batches commit in any order, and every camera field only moves forward in time.
 */
export class IngestBatcher {
  private open: OpenBatch | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Resolves, in seal order, once every batch sealed so far is durable (false: the batcher stopped first). */
  private chain: Promise<boolean> = Promise.resolve(true);
  private closed = false;
  private inFlight = 0;
  private persisting = 0;
  private readonly waitingForSlot: (() => void)[] = [];
  private readonly now: () => Date;
  /** Recently queued event ids, oldest first (a Set iterates in insertion order). */
  private readonly recent = new Set<string>();

  constructor(private readonly opts: BatcherOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  /** Batches sealed but not yet durable. */
  get backlog(): number {
    return this.inFlight;
  }

  /** Feeds one raw MQTT message. Never throws: invalid input becomes a rejection in the same batch. */
  add(topic: string, payload: Buffer, qos: number, generation: number): void {
    if (this.open && this.open.generation !== generation) this.seal();
    const open = (this.open ??= { generation, acks: 0, batch: { accepted: [], rejected: [] } });
    const receivedAt = this.now().toISOString();
    const result = this.tooFarAhead(decodeMessage(topic, payload, this.opts.topicRoot), receivedAt);
    if (result.ok && result.kind === 'events' && this.isRepeat(result.payload.id)) {
      this.opts.onDecoded?.({ ok: true, kind: result.kind });
      this.opts.onRepeat?.();
    } else if (result.ok) {
      open.batch.accepted.push({ kind: result.kind, receivedAt, payload: result.payload } as AcceptedMessage);
      this.opts.onDecoded?.({ ok: true, kind: result.kind });
    } else {
      open.batch.rejected.push(this.rejection(topic, payload, result.reason, result.detail, receivedAt));
      this.opts.onDecoded?.({ ok: false, reason: result.reason });
    }
    if (qos > 0) open.acks += 1;
    if (open.batch.accepted.length + open.batch.rejected.length >= this.opts.maxMessages) this.seal();
    else this.timer ??= setTimeout(() => this.seal(), this.opts.maxWaitMs);
  }

  /** A valid message dated beyond the tolerance becomes a rejection that keeps its payload and says by how much. */
  private tooFarAhead(result: ReturnType<typeof decodeMessage>, receivedAt: string): ReturnType<typeof decodeMessage> {
    const tolerance = this.opts.futureToleranceMs ?? 0;
    if (!result.ok || tolerance <= 0) return result;
    if (!('at' in result.payload)) return result;
    const ahead = Date.parse(result.payload.at) - Date.parse(receivedAt);
    if (ahead <= tolerance) return result;
    return {
      ok: false,
      reason: 'future_time',
      detail: `/at is ${Math.round(ahead / 1000)} s ahead of the hub clock (tolerance ${tolerance / 1000} s)`,
    };
  }

  /** True when `id` was queued recently; otherwise remembers it, forgetting the oldest beyond the window. */
  private isRepeat(id: string): boolean {
    const max = this.opts.recentEventIds ?? 0;
    if (max <= 0) return false;
    const key = id.toLowerCase();
    if (this.recent.has(key)) return true;
    this.recent.add(key);
    if (this.recent.size > max) this.recent.delete(this.recent.values().next().value!);
    return false;
  }

  /** Seals the open batch now (e.g. the connection closed: its acknowledgements must not mix with the next one). */
  seal(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const sealed = this.open;
    this.open = null;
    if (!sealed) return;
    this.inFlight += 1;
    const durable = this.persistUntilDone(sealed);
    this.chain = this.chain.then(async (earlierDurable) => {
      const ok = (await durable) && earlierDurable;
      this.inFlight -= 1;
      // A batch is acknowledged only after every earlier one: acknowledgements stay in arrival order, and a repeat
      // dropped by the recent-id window is acknowledged only once the batch holding its first copy is durable.
      if (ok) this.opts.onDurable(sealed.generation, sealed.acks);
      return ok;
    });
  }

  /** Seals what is open and waits until every sealed batch is durable (or the batcher is stopped). */
  async drain(): Promise<void> {
    this.seal();
    await this.chain;
  }

  private async slot(): Promise<void> {
    if (this.persisting < Math.max(1, this.opts.concurrency ?? 1)) {
      this.persisting += 1;
      return;
    }
    // The slot is handed over by the finishing persist (FIFO), so batches start in seal order.
    await new Promise<void>((r) => this.waitingForSlot.push(r));
  }

  private freeSlot(): void {
    const next = this.waitingForSlot.shift();
    if (next) next();
    else this.persisting -= 1;
  }

  /** Stops retrying; batches not yet durable stay unacknowledged, so the broker redelivers them. */
  stop(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Persists one batch, retrying until it is durable (true) or the batcher is stopped (false). */
  private async persistUntilDone(sealed: OpenBatch): Promise<boolean> {
    // Only repeats: nothing to queue; their acknowledgements still wait for every earlier batch (the chain).
    if (sealed.batch.accepted.length + sealed.batch.rejected.length === 0) return true;
    await this.slot();
    try {
      for (let attempt = 1; !this.closed; attempt++) {
        try {
          if (this.opts.admit) await this.opts.admit();
          if (this.closed) break;
          await this.opts.persist(sealed.batch);
          return true;
        } catch (err) {
          this.opts.onPersistError?.(err as Error, attempt);
          await sleep(Math.min(5000, 50 * 2 ** Math.min(attempt, 10)));
        }
      }
      return false;
    } finally {
      this.freeSlot();
    }
  }

  private rejection(
    topic: string,
    payload: Buffer,
    reason: Rejection['reason'],
    detail: string,
    receivedAt: string,
  ): Rejection {
    const max = this.opts.rejectionPayloadMaxBytes;
    const truncated = payload.byteLength > max;
    // Text with U+FFFD for bytes that are not UTF-8: readable in the API, and PostgreSQL text rejects NUL.
    const text = payload.subarray(0, max).toString('utf8').replaceAll('\u0000', '\uFFFD');
    return {
      topic: topic.slice(0, 1024),
      reason,
      detail,
      receivedAt,
      payload: text,
      payloadBytes: payload.byteLength,
      truncated,
    };
  }
}
