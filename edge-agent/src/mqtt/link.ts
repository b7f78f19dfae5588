import {
  type AgentStatus,
  createTopics,
  TOPIC_QOS,
  type TopicKind,
  type TopicPayloads,
  type Topics,
  validators,
} from '@camhub/shared';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { AgentConfig } from '../config.js';
import { AgentError } from '../errors.js';

export class PublishRejectedError extends AgentError {
  constructor(kind: TopicKind, detail: string) {
    super('publish_rejected', `${kind} payload does not match the contract: ${detail}`);
  }
}

/**
 * The agent's MQTT connection. `publish` is the only way anything leaves the agent: the topic comes from the
 * payload's own site/camera via the contract's topic builders, QoS and retain from the contract's table, and the
 * payload is checked against the contract schema first.
 */
export class MqttLink {
  readonly topics: Topics;
  readonly client: MqttClient;

  constructor(
    config: AgentConfig,
    offlineStatus: AgentStatus,
    private readonly logger: Logger,
  ) {
    this.topics = createTopics(config.mqtt.topicRoot);
    this.client = mqtt.connect(config.mqtt.url, {
      protocolVersion: config.mqtt.protocolVersion,
      clientId: config.mqtt.clientId ?? `camhub-agent-${config.site}-${process.pid}`,
      username: config.mqtt.username,
      password: config.mqtt.password,
      clean: true,
      keepalive: 30,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      queueQoSZero: false,
      will: {
        topic: this.topics.agent(config.site),
        payload: Buffer.from(JSON.stringify(offlineStatus)),
        qos: 1,
        retain: true,
      },
    });
    this.client.on('connect', () => logger.info({ url: config.mqtt.url }, 'mqtt connected'));
    this.client.on('close', () => logger.debug('mqtt connection closed'));
    this.client.on('offline', () => logger.warn('mqtt offline; events stay in the outbox'));
    this.client.on('error', (err) => logger.warn({ err: err.message }, 'mqtt error'));
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Resolves on PUBACK. */
  publish<K extends TopicKind>(kind: K, payload: TopicPayloads[K]): Promise<void> {
    const validator = validators[kind];
    if (!validator.Check(payload)) {
      const first = validator.Errors(payload).First();
      return Promise.reject(new PublishRejectedError(kind, first ? `${first.path}: ${first.message}` : 'invalid'));
    }
    const topic = this.topics.forPayload(kind, payload);
    const { qos, retain } = TOPIC_QOS[kind];
    return new Promise((resolve, reject) => {
      this.client.publish(topic, JSON.stringify(payload), { qos, retain }, (err) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
