import type { FastifyBaseLogger } from 'fastify';
import mqtt, { type MqttClient } from 'mqtt';
import type { HubConfig } from '../config.js';

/**
 * An MQTT client of a feature's own for what it publishes (site configs, video commands), connected on first use:
 * most hub processes never publish those. Its client id is the hub's with `role` and the pid; `end()` closes it if
 * it was ever opened. `label` names it in the log.
 */
export function lazyMqttPublisher(cfg: HubConfig, opts: { role: string; label: string; log: FastifyBaseLogger }) {
  let client: MqttClient | null = null;
  return {
    client(): MqttClient {
      if (!client) {
        client = mqtt.connect(cfg.MQTT_URL, {
          clientId: `${cfg.MQTT_CLIENT_ID.slice(0, 40)}-${opts.role}-${process.pid}`,
          username: cfg.MQTT_USERNAME,
          password: cfg.MQTT_PASSWORD,
          protocolVersion: cfg.MQTT_PROTOCOL_VERSION === 4 ? 4 : 5,
          clean: true,
          reconnectPeriod: 1000,
          connectTimeout: 10_000,
        });
        // Once: the features used to add a listener on every use.
        client.on('error', (err) => opts.log.warn({ err: err.message }, `${opts.label} mqtt error`));
      }
      return client;
    },
    async end(): Promise<void> {
      await client
        ?.endAsync()
        .catch((err: Error) => opts.log.warn({ err: err.message }, `${opts.label} mqtt end failed`));
    },
  };
}
