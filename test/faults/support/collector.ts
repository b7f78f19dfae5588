import mqtt, { type MqttClient } from 'mqtt';
import { uniqueToken } from '../../support/ids.js';
import { HUB_MQTT_USER, type ProductionMosquitto } from '../../support/mosquitto.js';

export interface Arrival {
  id: string;
  camera: string;
  seq: number;
  data: Record<string, unknown> | undefined;
  at: number;
}

/**
 * Watches events at the broker (as the hub's user, beside the hub) in arrival order, to check per-camera order and
 * delivery latency. It only observes: the hub and PostgreSQL remain the judges of what was stored.
 */
export class EventCollector {
  /** First arrival of each id, in arrival order. */
  readonly arrivals: Arrival[] = [];
  readonly byId = new Map<string, Arrival>();
  duplicates = 0;
  private constructor(readonly client: MqttClient) {
    client.on('message', (_topic, payload) => {
      const e = JSON.parse(payload.toString()) as {
        id: string;
        camera: string;
        seq: number;
        data?: Record<string, unknown>;
      };
      if (this.byId.has(e.id)) {
        this.duplicates += 1;
        return;
      }
      const a = { id: e.id, camera: e.camera, seq: e.seq, data: e.data, at: Date.now() };
      this.arrivals.push(a);
      this.byId.set(e.id, a);
    });
    client.on('error', () => undefined);
  }

  static async start(broker: ProductionMosquitto, site: string): Promise<EventCollector> {
    const client = await mqtt.connectAsync(broker.url, {
      clientId: `fault-collector-${uniqueToken()}`,
      username: HUB_MQTT_USER,
      password: broker.hubPassword,
      protocolVersion: 5,
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
      reconnectPeriod: 250,
    });
    const c = new EventCollector(client);
    await client.subscribeAsync(`camhub/v1/${site}/cameras/+/events`, { qos: 1 });
    return c;
  }

  /** Cameras whose events did not first arrive in increasing seq order, with the first inversion. */
  orderViolations(): string[] {
    const last = new Map<string, number>();
    const bad: string[] = [];
    for (const a of this.arrivals) {
      const prev = last.get(a.camera);
      if (prev !== undefined && a.seq <= prev) bad.push(`${a.camera}: seq ${a.seq} after ${prev}`);
      last.set(a.camera, a.seq);
    }
    return bad;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
