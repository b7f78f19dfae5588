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

/**
 * Clears what a site's agent left retained on the shared broker under a test's topic root (its status and its
 * cameras' statuses), which would otherwise outlive the test file.
 */
export async function clearRetained(root: string, site: string, cameras: readonly string[]): Promise<void> {
  const pub = await connectPublisher();
  try {
    for (const topic of [`${root}/${site}/agent`, ...cameras.map((c) => `${root}/${site}/cameras/${c}/status`)]) {
      await pub.publishAsync(topic, '', { qos: 1, retain: true });
    }
  } finally {
    await pub.endAsync();
  }
}
