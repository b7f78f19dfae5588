import mqtt, { type MqttClient } from 'mqtt';
import { uniqueToken } from './ids.js';

export const MQTT_URL = process.env.TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

/** A plain publisher, as any third-party client would be. */
export async function connectPublisher(url = MQTT_URL, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { clientId: `camhub-test-pub-${uniqueToken()}`, reconnectPeriod: 0, ...opts });
}

export async function publishJson(
  client: MqttClient,
  topic: string,
  payload: unknown,
  opts: { retain?: boolean } = {},
) {
  await client.publishAsync(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), {
    qos: 1,
    retain: opts.retain ?? false,
  });
}
