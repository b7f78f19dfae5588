import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Alert,
  type AlertNotificationPayload,
  type AlertRule,
  type Topics,
  type Delivery,
  type Webhook,
} from '@camhub/shared';
import type { FastifyInstance } from 'fastify';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApi, type AdminApi } from '../support/auth.js';
import { verifyWebhook } from '../../hub/src/notify/webhook.channel.js';
import { makeEvent } from '../support/factories.js';
import { buildHub, removeMqttSession, type TestHubEnv } from '../support/hub.js';
import { usePublisher, useTestHub } from '../support/hub-fixture.js';
import { publishJson } from '../support/mqtt.js';
import { sleep, waitFor } from '../support/wait.js';

interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  answered: number;
  receivedAt: number;
}

const GLOBAL_SECRET = 'global-secret-0123456789';
const SECRET = 'rule-secret-0123456789abc';
let receiver: Server;
let base: string;
const received: Received[] = [];
/** Status codes each path answers with, in turn; the last one repeats. */
const script: Record<string, number[]> = {
  '/flaky': [500, 500, 200],
  '/gone': [410],
  '/global': [200],
  '/esc': [200],
  '/authd': [200],
};
const calls = new Map<string, number>();

let env: TestHubEnv;
let hub: FastifyInstance;
let pub: MqttClient;
let api: AdminApi;
let t: Topics;

const deliveriesOf = async (alertId: string) =>
  (await api.get<{ items: Delivery[] }>(`/api/v1/notifications/deliveries?alertId=${alertId}`)).body.items;
const on = (path: string) => received.filter((r) => r.path === path);
const payloadOf = (r: Received) => JSON.parse(r.body) as AlertNotificationPayload;

async function alertFor(site: string, type: 'digital_input' | 'object' = 'digital_input'): Promise<Alert> {
  const e = makeEvent({ site, camera: 'cam-1', type, state: 'pulse' });
  await publishJson(pub, t.events(e.site, e.camera), e);
  return waitFor(async () => (await api.get<{ items: Alert[] }>(`/api/v1/alerts?site=${site}`)).body.items[0], {
    what: `alert at ${site}`,
  });
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const n = calls.get(path) ?? 0;
      calls.set(path, n + 1);
      const codes = script[path] ?? [404];
      const answered = codes[Math.min(n, codes.length - 1)]!;
      received.push({
        path,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        answered,
        receivedAt: Date.now(),
      });
      res.writeHead(answered, { 'content-type': 'text/plain' }).end(answered === 200 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
const fixture = useTestHub(() => ({
  ALERT_TICK_SEC: 1,
  WEBHOOK_URL: `${base}/global`,
  WEBHOOK_SECRET: GLOBAL_SECRET,
  WEBHOOK_BACKOFF_MS: 150,
  WEBHOOK_ATTEMPTS: 4,
  // The receiver is on loopback, which webhooks may only reach when an admin allows it.
  WEBHOOK_ALLOWED_ADDRESSES: '127.0.0.1',
}));
const mqtt = usePublisher(fixture);
beforeAll(async () => {
  ({ env, hub } = fixture);
  ({ pub, topics: t } = mqtt);
  api = adminApi(hub);
});

afterAll(async () => {
  await new Promise((r) => receiver?.close(r));
});

async function rule(body: Record<string, unknown>): Promise<AlertRule> {
  const res = await api.post<AlertRule>('/api/v1/alert-rules', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function webhook(body: Record<string, unknown>): Promise<Webhook> {
  const res = await api.post<Webhook>('/api/v1/webhooks', { secret: SECRET, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

describe('webhook notifications', () => {
  it('retries after 500s with backoff, signs every attempt, and logs the delivery', async () => {
    const r = await rule({
      kind: 'event',
      name: 'Door',
      severity: 'warning',
      eventTypes: ['digital_input'],
      sites: ['wh-1'],
    });
    const hook = await webhook({ name: 'flaky', url: `${base}/flaky`, ruleIds: [r.id] });
    await webhook({ name: 'critical only', url: `${base}/gone`, minSeverity: 'critical' });
    const listed = await api.get<{ items: Record<string, unknown>[] }>('/api/v1/webhooks');
    expect(listed.body.items.map((w) => w.name)).toEqual(['flaky', 'critical only']);
    expect(JSON.stringify(listed.body)).not.toContain(SECRET);

    const alert = await alertFor('wh-1');
    const delivered = await waitFor(
      async () => (await deliveriesOf(alert.id)).find((d) => d.targetId === hook.id && d.status === 'delivered'),
      { what: 'delivery after retries' },
    );
    expect(delivered).toMatchObject({ channel: 'webhook', event: 'alert.opened', attempts: 3, lastStatus: 200 });
    expect(delivered.lastError).toBeNull();

    const attempts = on('/flaky');
    expect(attempts.map((a) => a.answered)).toEqual([500, 500, 200]);
    for (const a of attempts) {
      expect(a.headers['content-type']).toBe('application/json');
      expect(a.headers['x-camhub-event']).toBe('alert.opened');
      expect(a.headers['x-camhub-delivery']).toBe(delivered.id);
      const headers = {
        signature: a.headers['x-camhub-signature'] as string,
        timestamp: a.headers['x-camhub-timestamp'] as string,
      };
      expect(verifyWebhook(SECRET, headers, a.body)).toBe(true);
      expect(verifyWebhook(GLOBAL_SECRET, headers, a.body)).toBe(false);
      expect(verifyWebhook(SECRET, headers, a.body.replace('wh-1', 'wh-2'))).toBe(false);
    }
    // Exponential backoff from WEBHOOK_BACKOFF_MS (150 ms): about 150 ms, then about 300 ms.
    const gaps = [attempts[1]!.receivedAt - attempts[0]!.receivedAt, attempts[2]!.receivedAt - attempts[1]!.receivedAt];
    expect(gaps[0]).toBeGreaterThanOrEqual(140);
    expect(gaps[1]).toBeGreaterThanOrEqual(290);
    const body = payloadOf(attempts[2]!);
    expect(body).toMatchObject({
      v: 1,
      id: delivered.id,
      event: 'alert.opened',
      alert: { id: alert.id, site: 'wh-1', severity: 'warning' },
    });

    // The global webhook hears about every alert, signed with its own secret; the critical-only one did not.
    const global = await waitFor(() => on('/global').find((g) => payloadOf(g).alert.id === alert.id));
    expect(
      verifyWebhook(
        GLOBAL_SECRET,
        {
          signature: global.headers['x-camhub-signature'] as string,
          timestamp: global.headers['x-camhub-timestamp'] as string,
        },
        global.body,
      ),
    ).toBe(true);
    expect(on('/gone')).toHaveLength(0);
    const log = await deliveriesOf(alert.id);
    expect(log.map((d) => [d.targetId === null ? 'global' : d.targetId, d.status]).sort()).toEqual(
      [
        ['global', 'delivered'],
        [hook.id, 'delivered'],
      ].sort(),
    );
  });

  it('gives up at once on a 4xx, and follows the alert through acknowledge and resolve', async () => {
    await rule({ kind: 'event', name: 'Vault', severity: 'critical', eventTypes: ['object'], sites: ['wh-2'] });
    const alert = await alertFor('wh-2', 'object');
    const gone = await waitFor(async () => (await deliveriesOf(alert.id)).find((d) => d.status === 'failed'), {
      what: 'failed delivery',
    });
    expect(gone).toMatchObject({
      attempts: 1,
      lastStatus: 410,
      lastError: expect.stringContaining('410'),
      lastErrorCode: 'http_status',
      lastErrorParams: { status: 410 },
    });
    await sleep(500);
    expect(on('/gone')).toHaveLength(1);

    expect((await api.post(`/api/v1/alerts/${alert.id}/ack`, { note: 'on it' })).status).toBe(200);
    expect((await api.post(`/api/v1/alerts/${alert.id}/resolve`, {})).status).toBe(200);
    await waitFor(() => on('/global').filter((g) => payloadOf(g).alert.id === alert.id).length === 3, {
      what: 'three global deliveries',
    });
    const events = on('/global')
      .filter((g) => payloadOf(g).alert.id === alert.id)
      .map((g) => [payloadOf(g).event, payloadOf(g).alert.status]);
    expect(events.sort()).toEqual(
      [
        ['alert.acknowledged', 'acknowledged'],
        ['alert.opened', 'open'],
        ['alert.resolved', 'resolved'],
      ].sort(),
    );
    // The critical-only webhook heard all three changes and refused each (410): three failed deliveries.
    const failed = await waitFor(
      async () => {
        const items = (await api.get<{ items: Delivery[] }>('/api/v1/notifications/deliveries?status=failed')).body
          .items;
        return items.length === 3 ? items : null;
      },
      { what: 'three failed deliveries' },
    );
    expect(failed.map((d) => d.event).sort()).toEqual(['alert.acknowledged', 'alert.opened', 'alert.resolved']);
    expect(on('/gone')).toHaveLength(3);
  });

  it('tells the escalation target when an alert is escalated', async () => {
    const esc = await webhook({ name: 'duty officer', url: `${base}/esc`, ruleIds: [] });
    await rule({
      kind: 'event',
      name: 'Alarm',
      severity: 'critical',
      eventTypes: ['digital_input'],
      sites: ['wh-3'],
      escalateAfterSec: 1,
      escalateTo: [esc.id],
    });
    const alert = await alertFor('wh-3');
    const got = await waitFor(() => on('/esc')[0], { what: 'escalation webhook', timeoutMs: 15_000 });
    expect(payloadOf(got)).toMatchObject({ event: 'alert.escalated', alert: { id: alert.id, escalationLevel: 1 } });
    // Only the escalation: its rule list is empty, so it hears nothing else.
    await sleep(500);
    expect(on('/esc')).toHaveLength(1);
    const unknown = await api.post<{ error: { code: string } }>('/api/v1/alert-rules', {
      kind: 'event',
      name: 'x',
      severity: 'info',
      escalateTo: ['01936b7e-8c1a-7c35-9f0e-000000000000'],
    });
    expect(unknown.body.error.code).toBe('unknown_target');
  });

  it("keeps a webhook URL's password sealed at rest, sends it as Basic auth, and seals older rows at start", async () => {
    const rowText = async (id: string) =>
      (
        await hub.pg.query<{ row: string }>(
          'SELECT row_to_json(t)::text AS row FROM notification_targets t WHERE id = $1',
          [id],
        )
      ).rows[0]!.row;
    const basicOf = (user: string, password: string) =>
      `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    const authd = () => on('/authd');

    // Through the API: the password never reaches the database in clear, and still reaches the receiver.
    const port = new URL(base).port;
    const hook = await webhook({
      name: 'with credentials',
      url: `http://bob:s3cret-pw-9@127.0.0.1:${port}/authd`,
      ruleIds: [],
    });
    expect(hook.url).toBe(`http://bob:redacted@127.0.0.1:${port}/authd`);
    const stored = await rowText(hook.id);
    expect(stored).not.toContain('s3cret-pw-9');
    expect(JSON.parse(stored)).toMatchObject({ config: { url: `http://bob@127.0.0.1:${port}/authd` } });
    const tested = await api.post<{ ok: boolean }>(`/api/v1/notification-targets/${hook.id}/test`, {});
    expect(tested.body).toMatchObject({ ok: true });
    expect(authd().at(-1)!.headers.authorization).toBe(basicOf('bob', 's3cret-pw-9'));

    // A row as hubs before the sealing wrote it: signing secret and URL password in clear in `config`.
    const legacyId = '01936b7e-8c1a-7c35-9f0e-00000000a1d0';
    const legacySecret = 'legacy-signing-secret-0123';
    await hub.pg.query(
      `INSERT INTO notification_targets (id, channel, name, config, enabled, min_severity, rule_ids)
       VALUES ($1, 'webhook', 'from an older hub', $2, true, 'info', '{}')`,
      [legacyId, JSON.stringify({ url: `http://carol:legacy-pw-7@127.0.0.1:${port}/authd`, secret: legacySecret })],
    );
    // Another hub process starts (as after an upgrade): it seals the row with the hub key.
    const second = await buildHub(
      { ...env.config, MQTT_CLIENT_ID: `${env.config.MQTT_CLIENT_ID}-second` },
      { ingest: { subscribe: false, work: false } },
    );
    await second.close();
    await removeMqttSession({ ...env.config, MQTT_CLIENT_ID: `${env.config.MQTT_CLIENT_ID}-second` });
    const sealed = await rowText(legacyId);
    expect(sealed).not.toContain('legacy-pw-7');
    expect(sealed).not.toContain(legacySecret);
    expect(JSON.parse(sealed)).toMatchObject({
      config: { url: `http://carol@127.0.0.1:${port}/authd` },
      secrets: expect.stringMatching(/^v1\./),
    });
    // Shown redacted, sent with both: the password as Basic auth, the signing secret in the signature.
    const shown = (await api.get<{ items: Webhook[] }>('/api/v1/webhooks')).body.items.find((w) => w.id === legacyId);
    expect(shown!.url).toBe(`http://carol:redacted@127.0.0.1:${port}/authd`);
    const before = authd().length;
    expect((await api.post<{ ok: boolean }>(`/api/v1/notification-targets/${legacyId}/test`, {})).body).toMatchObject({
      ok: true,
    });
    const got = authd()[before]!;
    expect(got.headers.authorization).toBe(basicOf('carol', 'legacy-pw-7'));
    expect(
      verifyWebhook(
        legacySecret,
        {
          signature: got.headers['x-camhub-signature'] as string,
          timestamp: got.headers['x-camhub-timestamp'] as string,
        },
        got.body,
      ),
    ).toBe(true);
  });
});
