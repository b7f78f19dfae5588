import { type Alert, createOutTopics, type OutAlertChange, type OutCameraStatus } from '@camhub/shared';
import fp from 'fastify-plugin';
import mqtt, { type MqttClient } from 'mqtt';
import { discoveryMessages, eventMessages, type OutMessage } from './mqtt-out.js';

/** A motion pulse has no end event: its OFF follows this long after. */
const PULSE_OFF_MS = 10_000;

/**
 * MQTT out: the hub publishes camera status, motion, last event and alert changes on retained, documented topics
 * (docs/contract.md), with its availability as last will, and optionally Home Assistant discovery. Its own client
 * (not the ingest one): a slow or failing broker write never holds ingest acknowledgements.
 */
export default fp(
  async (app) => {
    const cfg = app.config;
    if (cfg.MQTT_OUT !== 'true') return;
    const topics = createOutTopics(cfg.MQTT_TOPIC_ROOT);
    const discovery = cfg.HA_DISCOVERY === 'true';
    const announced = new Set<string>();
    const pulseTimers = new Map<string, NodeJS.Timeout>();

    const client: MqttClient = mqtt.connect(cfg.MQTT_URL, {
      clientId: `${cfg.MQTT_CLIENT_ID}-out`.slice(0, 64),
      username: cfg.MQTT_USERNAME,
      password: cfg.MQTT_PASSWORD,
      protocolVersion: cfg.MQTT_PROTOCOL_VERSION === 4 ? 4 : 5,
      clean: true,
      reconnectPeriod: 1000,
      will: { topic: topics.available, payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    client.on('error', (err) => app.log.warn({ err: err.message }, 'mqtt out error'));

    const send = (messages: OutMessage[]) => {
      // While disconnected, mqtt.js queues; retained state is re-sent in full on every connect anyway.
      for (const m of messages) client.publish(m.topic, m.payload, { qos: 1, retain: m.retain });
    };
    const announce = (camera: { site: string; camera: string; name: string }) => {
      const key = `${camera.site}/${camera.camera}`;
      if (!discovery || announced.has(key)) return;
      announced.add(key);
      send(discoveryMessages(cfg.HA_DISCOVERY_PREFIX, topics, camera));
    };
    const statusMessage = (s: OutCameraStatus): OutMessage => ({
      topic: topics.status(s.site, s.camera),
      payload: JSON.stringify(s),
      retain: true,
    });

    client.on('connect', () => {
      void (async () => {
        send([{ topic: topics.available, payload: 'online', retain: true }]);
        announced.clear();
        const cameras = await app.container.services.cameras.list({});
        for (const c of cameras) {
          announce(c);
          send([
            statusMessage({
              site: c.site,
              camera: c.camera,
              name: c.name,
              status: c.status,
              since: c.since,
              problems: c.problems,
              at: new Date().toISOString(),
            }),
          ]);
        }
      })().catch((err: Error) => app.log.error({ err }, 'mqtt out: publishing the current state failed'));
    });

    app.container.bus.on('camera.status', (c) => {
      announce({ site: c.site, camera: c.camera, name: c.camera });
      send([
        statusMessage({
          site: c.site,
          camera: c.camera,
          name: c.camera,
          status: c.to,
          since: c.at,
          problems: c.problems,
          at: c.at,
        }),
      ]);
    });

    app.container.bus.on('events.stored', (events) => {
      const { messages, pulses } = eventMessages(topics, events);
      for (const e of events) announce({ site: e.site, camera: e.camera, name: e.camera });
      send(messages);
      for (const p of pulses) {
        const key = `${p.site}/${p.camera}`;
        clearTimeout(pulseTimers.get(key));
        pulseTimers.set(
          key,
          setTimeout(() => {
            pulseTimers.delete(key);
            send([{ topic: topics.motion(p.site, p.camera), payload: 'OFF', retain: true }]);
          }, PULSE_OFF_MS),
        );
      }
    });

    app.container.bus.on('alert.change', (c) => {
      const alert: Alert = c.alert;
      const change: OutAlertChange = { action: c.action, actor: c.actor, at: c.at, alert };
      send([
        { topic: topics.alerts, payload: JSON.stringify(change), retain: false },
        // Open alerts stay retained for whoever connects later; a resolved one is cleared.
        {
          topic: topics.openAlert(alert.site, alert.id),
          payload: alert.status === 'resolved' ? '' : JSON.stringify(alert),
          retain: true,
        },
      ]);
    });

    app.addHook('onClose', async () => {
      for (const t of pulseTimers.values()) clearTimeout(t);
      // A clean stop says so itself (the will only covers crashes).
      if (client.connected)
        await client.publishAsync(topics.available, 'offline', { qos: 1, retain: true }).catch(() => undefined);
      await client.endAsync();
    });
  },
  { name: 'mqtt-out', dependencies: ['config'] },
);
