import { type Alert, createOutTopics, type Topics } from '@camhub/shared';
import type { FastifyInstance } from 'fastify';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApi, type AdminApi } from '../support/auth.js';
import { makeCameraStatus, makeEvent } from '../support/factories.js';
import { usePublisher, useTestHub } from '../support/hub-fixture.js';
import { uniqueToken, uniqueTopicRoot } from '../support/ids.js';
import { publishJson } from '../support/mqtt.js';
import { waitFor } from '../support/wait.js';

// The hub's MQTT out (docs/contract.md) against the real Mosquitto: what a Home Assistant or Node-RED client sees.
const PREFIX = `ha-${uniqueToken()}`;
/** The file's own topic root, known before the hub is built: the listener subscribes first. */
const ROOT = uniqueTopicRoot();
let hub: FastifyInstance;
let pub: MqttClient;
let listener: MqttClient;
let api: AdminApi;
let out: ReturnType<typeof createOutTopics>;
let t: Topics;
/** Last payload per topic (retained or live), as a subscriber would hold it. */
const last = new Map<string, string>();
const seen: { topic: string; payload: string; retain: boolean }[] = [];

/** Subscribes with the handler already attached: retained messages follow the SUBACK at once. */
async function subscriber(
  topics: string[],
  onMessage: (topic: string, payload: Buffer, retain: boolean) => void = () => undefined,
): Promise<MqttClient> {
  const c = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { clientId: `out-test-${uniqueToken()}` });
  c.on('message', (topic, payload, packet) => onMessage(topic, payload, packet.retain));
  await c.subscribeAsync(topics, { qos: 1 });
  return c;
}

// Subscribed before the hub starts (its availability and discovery are retained, and published as it starts); what
// they leave retained on the shared broker is cleared after the hub has closed.
beforeAll(async () => {
  listener = await subscriber([`${ROOT}/_hub/#`, `${PREFIX}/#`], (topic, payload, retain) => {
    last.set(topic, payload.toString());
    seen.push({ topic, payload: payload.toString(), retain });
  });
});
afterAll(async () => {
  await listener?.endAsync();
  const retained = new Set<string>();
  const cleaner = await subscriber([`${ROOT}/_hub/#`, `${PREFIX}/#`], (topic, payload) => {
    if (payload.length) retained.add(topic);
  });
  await new Promise((r) => setTimeout(r, 500));
  for (const topic of retained) await cleaner.publishAsync(topic, '', { qos: 1, retain: true });
  await cleaner.endAsync();
});
const fixture = useTestHub({
  MQTT_TOPIC_ROOT: ROOT,
  MQTT_OUT: 'true',
  HA_DISCOVERY: 'true',
  HA_DISCOVERY_PREFIX: PREFIX,
});
const publisher = usePublisher(fixture);
beforeAll(() => {
  ({ hub } = fixture);
  ({ pub, topics: t } = publisher);
  out = createOutTopics(ROOT);
  api = adminApi(hub);
});

describe('MQTT out', () => {
  it('says the hub is available, and publishes camera status, motion, last event and HA discovery', async () => {
    await waitFor(() => last.get(out.available) === 'online', { what: 'available online' });
    await publishJson(
      pub,
      t.status('mo-1', 'gate'),
      makeCameraStatus({ site: 'mo-1', camera: 'gate', name: 'Cổng chính' }),
    );
    const status = await waitFor(() => last.get(out.status('mo-1', 'gate')), { what: 'status out' });
    expect(JSON.parse(status)).toMatchObject({ site: 'mo-1', camera: 'gate', status: 'online' });

    await publishJson(
      pub,
      t.events('mo-1', 'gate'),
      makeEvent({ site: 'mo-1', camera: 'gate', type: 'motion', state: 'start' }),
    );
    await waitFor(() => last.get(out.motion('mo-1', 'gate')) === 'ON', { what: 'motion ON' });
    await publishJson(
      pub,
      t.events('mo-1', 'gate'),
      makeEvent({ site: 'mo-1', camera: 'gate', type: 'motion', state: 'end' }),
    );
    await waitFor(() => last.get(out.motion('mo-1', 'gate')) === 'OFF', { what: 'motion OFF' });
    expect(JSON.parse(last.get(out.lastEvent('mo-1', 'gate'))!)).toMatchObject({ type: 'motion', state: 'end' });

    const config = await waitFor(() => last.get(`${PREFIX}/binary_sensor/camhub_mo-1_gate/motion/config`), {
      what: 'discovery',
    });
    expect(JSON.parse(config)).toMatchObject({
      device_class: 'motion',
      state_topic: out.motion('mo-1', 'gate'),
      availability_topic: out.available,
      unique_id: 'camhub_mo-1_gate_motion',
    });
    expect(last.get(`${PREFIX}/sensor/camhub_mo-1_gate/status/config`)).toBeDefined();

    // Retained: a client connecting now gets the current state at once.
    const got = new Map<string, { payload: string; retain: boolean }>();
    const late = await subscriber(
      [out.status('mo-1', 'gate'), out.motion('mo-1', 'gate'), out.available],
      (topic, payload, retain) => got.set(topic, { payload: payload.toString(), retain }),
    );
    await waitFor(() => got.size === 3, { what: 'retained state for a late subscriber' });
    expect(got.get(out.motion('mo-1', 'gate'))).toEqual({ payload: 'OFF', retain: true });
    expect(got.get(out.available)).toEqual({ payload: 'online', retain: true });
    await late.endAsync();
  });

  it('publishes alert changes, keeps open alerts retained and clears them when resolved', async () => {
    await publishJson(
      pub,
      t.events('mo-2', 'yard'),
      makeEvent({ site: 'mo-2', camera: 'yard', type: 'intrusion', state: 'pulse' }),
    );
    const alert = await waitFor(
      async () => (await api.get<{ items: Alert[] }>('/api/v1/alerts?site=mo-2')).body.items[0],
      {
        what: 'alert',
      },
    );
    const open = await waitFor(() => last.get(out.openAlert('mo-2', alert.id)), { what: 'open alert retained' });
    expect(JSON.parse(open)).toMatchObject({ id: alert.id, status: 'open', severity: 'critical' });
    expect((await api.post(`/api/v1/alerts/${alert.id}/resolve`, {})).status).toBe(200);
    await waitFor(() => last.get(out.openAlert('mo-2', alert.id)) === '', { what: 'cleared when resolved' });
    const changes = seen
      .filter((s) => s.topic === out.alerts)
      .map((s) => JSON.parse(s.payload) as { action: string; alert: Alert });
    expect(changes.filter((c) => c.alert.id === alert.id).map((c) => c.action)).toEqual(
      expect.arrayContaining(['opened', 'resolved']),
    );
    expect(seen.filter((s) => s.topic === out.alerts).every((s) => !s.retain)).toBe(true);
  });

  it('says offline when the hub stops', async () => {
    await hub.close();
    await waitFor(() => last.get(out.available) === 'offline', { what: 'available offline' });
    hub = null as unknown as FastifyInstance;
  });
});
