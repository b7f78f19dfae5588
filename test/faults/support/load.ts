import type { CameraEvent } from '@camhub/shared';
import { createTopics } from '@camhub/shared';
import mqtt, { type MqttClient } from 'mqtt';
import { v7 as uuidv7 } from 'uuid';
import { uniqueToken } from '../../support/ids.js';

export interface LoadOptions {
  url: string;
  username: string;
  password: string;
  site: string;
  cameras: number;
  /** Events per second, spread over the cameras. */
  ratePerSec: number;
  /** Unacknowledged publishes at most (an agent's `mqtt.maxInFlight`). */
  maxInFlight?: number;
}

/**
 * Steady event traffic with an agent's delivery rule: an event counts as published only once the broker
 * acknowledged it (PUBACK), and one that fails is sent again with the same id until it is. So `acked` is exactly
 * what the system promised to keep.
 */
export class EventLoad {
  readonly client: MqttClient;
  /** Ids the broker acknowledged, in acknowledgement order. */
  readonly acked: string[] = [];
  /** Epoch ms of each acknowledgement (parallel to `acked`). */
  readonly ackedAt: number[] = [];
  private readonly seqs: number[];
  private inFlight = 0;
  private created = 0;
  retries = 0;
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private readonly topics = createTopics('camhub/v1');
  private readonly retryQueue: CameraEvent[] = [];

  constructor(private readonly opts: LoadOptions) {
    this.seqs = Array.from({ length: opts.cameras }, () => 0);
    this.client = mqtt.connect(opts.url, {
      clientId: `fault-load-${uniqueToken()}`,
      username: opts.username,
      password: opts.password,
      protocolVersion: 5,
      reconnectPeriod: 250,
      connectTimeout: 5000,
    });
    this.client.on('error', () => undefined); // reconnects by itself; failures surface as retries
  }

  async connected(): Promise<void> {
    if (this.client.connected) return;
    await new Promise<void>((resolve) => this.client.once('connect', () => resolve()));
  }

  start(): void {
    this.startedAt = Date.now();
    this.timer = setInterval(() => this.tick(), 10);
  }

  /** Stops creating events; resolves when every created event has been acknowledged. */
  async stop(timeoutMs = 120_000): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight > 0 || this.retryQueue.length > 0) {
      if (Date.now() > deadline) throw new Error(`${this.inFlight} publishes still unacknowledged`);
      this.flushRetries();
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.client.endAsync(true);
  }

  get createdCount(): number {
    return this.created;
  }

  /** Acknowledged events up to time `t` (epoch ms). */
  ackedBy(t: number): number {
    let n = 0;
    while (n < this.ackedAt.length && this.ackedAt[n]! <= t) n++;
    return n;
  }

  private tick(): void {
    this.flushRetries();
    const due = Math.floor(((Date.now() - this.startedAt) / 1000) * this.opts.ratePerSec);
    while (this.created < due && this.inFlight < (this.opts.maxInFlight ?? 500)) {
      const camera = this.created % this.opts.cameras;
      this.created += 1;
      const event: CameraEvent = {
        v: 1,
        id: uuidv7(),
        site: this.opts.site,
        camera: `cam-${camera}`,
        seq: this.seqs[camera]!++,
        type: 'motion',
        state: 'pulse',
        at: new Date().toISOString(),
        source: { kind: 'onvif', topic: 'tns1:RuleEngine/LineDetector/Crossed' },
      };
      this.send(event);
    }
  }

  private flushRetries(): void {
    while (this.retryQueue.length > 0 && this.client.connected) this.send(this.retryQueue.shift()!);
  }

  private send(event: CameraEvent): void {
    this.inFlight += 1;
    this.client.publishAsync(this.topics.events(event.site, event.camera), JSON.stringify(event), { qos: 1 }).then(
      () => {
        this.inFlight -= 1;
        this.acked.push(event.id);
        this.ackedAt.push(Date.now());
      },
      () => {
        this.inFlight -= 1;
        this.retries += 1;
        this.retryQueue.push(event);
      },
    );
  }
}
