import type { TopicPayloads } from '@camhub/shared';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { Outbox, OutboxItem } from '../outbox/outbox.js';
import { type MqttLink, PublishRejectedError } from './link.js';

/**
 * Drains the outbox into MQTT with up to `maxInFlight` unacknowledged publishes (a backlog drains at broker speed,
 * not one round trip per event). A record leaves the outbox only on PUBACK. Publishes that were in flight when the
 * connection dropped stay with MQTT.js, which resends them on reconnect, in order.
 */
export class Forwarder {
  private inFlight = 0;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  published = 0;

  constructor(
    private readonly outbox: Outbox,
    private readonly link: MqttLink,
    private readonly maxInFlight: number,
    private readonly logger: Logger,
  ) {
    outbox.on('ready', () => this.pump());
    link.client.on('connect', () => this.pump());
  }

  pump(): void {
    while (!this.stopped && this.link.connected && this.inFlight < this.maxInFlight) {
      const item = this.outbox.next();
      if (!item) break;
      this.send(item);
    }
    if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private send(item: OutboxItem): void {
    let payload: TopicPayloads[typeof item.kind];
    try {
      payload = JSON.parse(item.payload.toString('utf8')) as TopicPayloads[typeof item.kind];
    } catch (err) {
      // Checksummed on disk, so this means a bug that wrote it; keeping it would block the log forever.
      this.logger.error({ err: errorMessage(err) }, 'outbox record is not JSON; discarded');
      this.outbox.ack(item);
      return;
    }
    this.inFlight += 1;
    this.link.publish(item.kind, payload).then(
      () => {
        this.inFlight -= 1;
        this.published += 1;
        this.outbox.ack(item);
        this.pump();
      },
      (err: unknown) => {
        this.inFlight -= 1;
        if (err instanceof PublishRejectedError) {
          this.logger.error({ err: err.message }, 'outbox record rejected by the contract check; discarded');
          this.outbox.ack(item);
        } else {
          this.logger.warn({ err: errorMessage(err) }, 'publish failed; will retry');
          this.outbox.release(item);
        }
        if (!this.stopped) setTimeout(() => this.pump(), 500).unref();
        else this.pump();
      },
    );
  }

  /** Waits until nothing is in flight or `timeoutMs` passes (graceful shutdown). */
  async flush(timeoutMs: number): Promise<boolean> {
    this.pump();
    if (this.inFlight === 0) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  stop(): void {
    this.stopped = true;
  }
}
