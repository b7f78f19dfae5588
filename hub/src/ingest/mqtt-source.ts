import { createTopics, sharedFilter, TOPIC_KINDS } from '@camhub/shared';
import type { FastifyBaseLogger } from 'fastify';
import mqtt, { type MqttClient } from 'mqtt';
import type { HubConfig } from '../config.js';
import { AckGate } from './ack-gate.js';

type MqttConfig = Pick<
  HubConfig,
  | 'MQTT_URL'
  | 'MQTT_CLIENT_ID'
  | 'MQTT_USERNAME'
  | 'MQTT_PASSWORD'
  | 'MQTT_PROTOCOL_VERSION'
  | 'MQTT_SESSION_EXPIRY_SEC'
  | 'MQTT_RECEIVE_MAXIMUM'
  | 'MQTT_TOPIC_ROOT'
  | 'MQTT_SHARE_GROUP'
  | 'INGEST_MAX_PENDING'
>;

/**
 * What the hub subscribes to. Events and health may be split across hubs (shared subscription); retained status and
 * agent topics are never delivered to shared subscriptions (MQTT 5, 4.8.2), so every hub reads those itself.
 */
export function subscriptions(
  cfg: Pick<MqttConfig, 'MQTT_TOPIC_ROOT' | 'MQTT_SHARE_GROUP'>,
): Record<string, { qos: 1 }> {
  const topics = createTopics(cfg.MQTT_TOPIC_ROOT);
  const share = (filter: string) => (cfg.MQTT_SHARE_GROUP ? sharedFilter(cfg.MQTT_SHARE_GROUP, filter) : filter);
  const subs: Record<string, { qos: 1 }> = {};
  for (const kind of TOPIC_KINDS) {
    const filter = topics.filters[kind];
    subs[kind === 'events' || kind === 'health' || kind === 'clips' ? share(filter) : filter] = { qos: 1 };
  }
  return subs;
}

/**
 * Memory bound that does not trust the broker: Mosquitto 2.0.11 stops honouring our receive maximum once
 * acknowledgements flow with a backlog queued (docs/performance.md) and sends tens of thousands of messages ahead of
 * their acknowledgements. Past the high-water mark we hold mqtt.js's per-message callback (`handleMessage`): it then
 * parses nothing more, its input stream stops draining, the socket is no longer read, and TCP flow control holds the
 * broker, which keeps the rest in our persistent session. Below the low-water mark reading goes on.
 * (Pausing the socket itself does not hold: the pipe into mqtt.js resumes it on its next 'drain'.)
 */
export class ReadHold {
  private held: (() => void)[] = [];
  readonly resumeBelow: number;

  constructor(readonly pauseAbove: number) {
    this.resumeBelow = Math.floor(pauseAbove / 2);
  }

  /** How many messages wait for their callback. */
  get size(): number {
    return this.held.length;
  }

  /** A message arrived with `pending` acknowledgements outstanding (its own included): read on, or hold. */
  admit(pending: number, callback: () => void): void {
    if (pending > this.pauseAbove) this.held.push(callback);
    else callback();
  }

  /** Acknowledgements are about to drop to `pendingAfter`: resume reading if that is below the low-water mark. */
  released(pendingAfter: number): void {
    if (this.held.length === 0 || pendingAfter > this.resumeBelow) return;
    const callbacks = this.held;
    this.held = [];
    for (const cb of callbacks) cb();
  }

  /** The connection closed: its held callbacks must never run (their PUBACKs would go out on the next connection). */
  drop(): void {
    this.held = [];
  }
}

export interface MqttSourceOptions {
  config: MqttConfig;
  log: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>;
  /** A QoS message arrived on connection `generation` (the batcher takes it). */
  onMessage: (topic: string, payload: Buffer, qos: number, generation: number) => void;
  /** The connection closed: the open batch must be sealed (acknowledgements never cross a reconnect). */
  onClose: () => void;
  /** Outstanding acknowledgements changed (metrics). */
  onPending?: (pending: number) => void;
}

/**
 * The hub's MQTT session: MQTT 5 with a stable client id, `clean: false` and a session expiry, so the broker keeps
 * QoS 1 messages while the hub is away; PUBACKs held in an AckGate until the batch holding each message is durable;
 * reading held above a high-water mark of unacknowledged messages (ReadHold).
 */
export class MqttSource {
  readonly client: MqttClient;
  private readonly gate: AckGate;
  private readonly hold: ReadHold;
  private closing = false;

  constructor(private readonly opts: MqttSourceOptions) {
    const cfg = opts.config;
    this.hold = new ReadHold(cfg.INGEST_MAX_PENDING > 0 ? cfg.INGEST_MAX_PENDING : cfg.MQTT_RECEIVE_MAXIMUM);
    const client = mqtt.connect(cfg.MQTT_URL, {
      clientId: cfg.MQTT_CLIENT_ID,
      username: cfg.MQTT_USERNAME,
      password: cfg.MQTT_PASSWORD,
      protocolVersion: cfg.MQTT_PROTOCOL_VERSION === 4 ? 4 : 5,
      clean: false,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      // MQTT 3.1.1 has no properties: clean:false alone keeps the session, with no expiry and no flow control.
      properties:
        cfg.MQTT_PROTOCOL_VERSION === 4
          ? undefined
          : { sessionExpiryInterval: cfg.MQTT_SESSION_EXPIRY_SEC, receiveMaximum: cfg.MQTT_RECEIVE_MAXIMUM },
      resubscribe: true,
      // Connected by start(), once the hub has finished starting: see start().
      manualConnect: true,
    });
    this.client = client;
    this.gate = new AckGate(client);
    client.on('close', () => {
      opts.onClose();
      this.hold.drop();
    });
    client.on('message', (topic, payload, packet) => {
      // While closing, take nothing new: its acknowledgement stays held, so the broker redelivers it later.
      if (this.closing) return;
      opts.onMessage(topic, payload, packet.qos, this.gate.currentGeneration);
      opts.onPending?.(this.gate.pending + 1);
    });
    // The PUBACK of this message is not in the gate yet (it is queued when the callback runs): hence + 1.
    client.handleMessage = (_packet, callback) => this.hold.admit(this.gate.pending + 1, () => callback());
    client.on('error', (err) => opts.log.warn({ err: err.message }, 'mqtt error'));
    client.on('connect', (connack) => {
      opts.log.info({ sessionPresent: connack.sessionPresent }, 'mqtt connected');
      // Subscribing again on a present session is harmless and repairs a session the broker lost.
      client.subscribe(subscriptions(cfg), (err) => {
        if (err) opts.log.error({ err: err.message }, 'mqtt subscribe failed');
      });
    });
  }

  /**
   * Connects. Called once the whole hub has started, not when the ingest plugin registers: a hub restarted after a
   * crash finds its persistent session full (everything published while it was down), and taking that backlog while
   * the rest of the hub still loads made the start compete with the catch-up. Measured in the fault suite's
   * hub-sigkill-twice with the case's processes held to 0.4 of a core: 20 s to ready on a first start, 41 s after the
   * SIGKILL, 18 of them between this connection and listening.
   */
  start(): void {
    if (!this.client.connected && !this.closing) this.client.connect();
  }

  /** Messages received whose acknowledgement waits for durability. */
  get pending(): number {
    return this.gate.pending;
  }

  /** A batch of connection `generation` holding `acks` messages is durable: send their PUBACKs, in order. */
  released(generation: number, acks: number): void {
    // Resume before releasing: a held message's PUBACK is queued in the gate only when its callback runs, and it
    // must be queued before the batch holding that message releases its count.
    this.hold.released(this.gate.pending - acks);
    this.gate.release(generation, acks);
    this.opts.onPending?.(this.gate.pending);
  }

  /** Takes no new message from now on (they stay unacknowledged, so the broker redelivers them). */
  stopTaking(): void {
    this.closing = true;
  }

  /** Ends the connection without unsubscribing: the persistent session keeps collecting while the hub is down. */
  async end(): Promise<void> {
    this.closing = true;
    await this.client.endAsync();
  }
}
