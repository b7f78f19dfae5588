import { randomBytes } from 'node:crypto';
import type { Alert, Delivery } from '@camhub/shared';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminApi, type AdminApi } from '../support/auth.js';
import type { Simulator } from '@camhub/simulator';
import { hubUrl, type TestHubEnv } from '../support/hub.js';
import { useNotifyServices, useSimSite, useTestHub } from '../support/hub-fixture.js';
import { uniqueToken } from '../support/ids.js';
import { freePortBlock } from '../support/processes.js';
import { waitFor } from '../support/wait.js';
import { simCameras } from '../support/agent-config.js';

// End to end on loopback: the ONVIF simulator's door contact (SOAP over HTTP) → the real edge agent (snapshot over
// ONVIF, upload to the hub) → Mosquitto → the hub's rule → Telegram and Zalo stand-ins and a real SMTP server.
// A free block in this file's own band (test/support/processes.ts: freePortBlock).
const BASE_PORT = await freePortBlock(32, 29000);
const SITE = `ns-${uniqueToken().slice(0, 6)}`;
const AGENT_TOKEN = `agent-${uniqueToken()}`;
const BOT_TOKEN = `7222333444:${randomBytes(18).toString('base64url')}`;
const CHAT = '-1005556667778';
const ZALO_APP = { appId: '5566778899001122', appSecret: `secret-${uniqueToken()}` };
const FOLLOWER = '1122334455667788';

let sim: Simulator;
let env: TestHubEnv;
let hub: FastifyInstance;
let api: AdminApi;

const services = useNotifyServices({
  telegram: { token: BOT_TOKEN, chats: [CHAT] },
  zalo: { ...ZALO_APP, followers: [FOLLOWER] },
  smtp: { username: 'bv@example.vn', password: 'smtp-pass-456' },
});
const fixture = useTestHub(
  () => ({
    AGENT_TOKENS: `${SITE}=${AGENT_TOKEN}`,
    ...services.hubConfig(),
  }),
  { listen: true },
);
beforeAll(async () => {
  ({ env, hub } = fixture);
  // The site's name for people comes from the sites registry.
  await hub.container.services.sites.create(
    { id: SITE, name: 'Kho Hà Nội', kind: 'business' },
    {},
    { actor: 'test', roles: [], ip: null },
  );
  api = adminApi(hub);
});
const site = useSimSite({
  cameras: 1,
  basePort: BASE_PORT,
  rtsp: false,
  agent: (sim) => ({
    site: SITE,
    mqtt: { url: env.config.MQTT_URL, topicRoot: env.config.MQTT_TOPIC_ROOT },
    hub: { url: hubUrl(hub), token: AGENT_TOKEN },
    health: { intervalSec: 2, stream: false },
    cameras: simCameras(sim.cameras, () => ({ id: 'cua-kho', name: 'Cửa kho' })),
  }),
});
beforeAll(async () => {
  ({ sim } = site);
  await waitFor(() => sim.cameras[0]!.stats().activeSubscriptions === 1, {
    timeoutMs: 20_000,
    what: 'agent subscribed',
  });
  // The camera's name reaches the hub in the agent's retained status: a message names it once the hub has it.
  await waitFor(
    async () =>
      (await api.get<{ items: { camera: string; name: string }[] }>(`/api/v1/cameras?site=${SITE}`)).body.items.some(
        (c) => c.camera === 'cua-kho' && c.name === 'Cửa kho',
      ),
    { timeoutMs: 20_000, what: 'the camera name at the hub' },
  );
});

describe('an alert opened by the simulator', () => {
  it('reaches Telegram, Zalo and e-mail within 5 s, with the camera snapshot', async () => {
    const rule = await api.post<{ id: string }>('/api/v1/alert-rules', {
      kind: 'event',
      name: 'Cửa kho mở',
      severity: 'critical',
      eventTypes: ['digital_input'],
      sites: [SITE],
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    const targets = [
      { channel: 'telegram', name: 'Telegram', config: { botToken: BOT_TOKEN, chatId: CHAT } },
      {
        channel: 'zalo',
        name: 'Zalo',
        config: { ...ZALO_APP, mode: 'users', userIds: [FOLLOWER], ...services.zalo.tokens() },
      },
      {
        channel: 'email',
        name: 'E-mail',
        config: {
          host: '127.0.0.1',
          port: services.smtp.port,
          security: 'starttls',
          username: 'bv@example.vn',
          password: 'smtp-pass-456',
          from: 'camhub@example.vn',
          to: ['thukho@example.vn'],
        },
      },
    ];
    for (const t of targets) {
      const res = await api.post('/api/v1/notification-targets', { ...t, siteIds: [SITE], ruleIds: [rule.body.id] });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }

    const opened = Date.now();
    sim.cameras[0]!.setInput(true);
    await waitFor(
      () => services.telegram.sent.length >= 1 && services.zalo.sent.length >= 1 && services.smtp.messages.length >= 1,
      {
        what: 'all three channels',
        timeoutMs: 30_000,
        intervalMs: 20,
      },
    );
    const reached = Date.now() - opened;
    const alert = (await api.get<{ items: Alert[] }>(`/api/v1/alerts?site=${SITE}`)).body.items[0]!;
    // Where the time went, for whoever reads a failure on a loaded machine (see uptime): agent → hub, hub → out.
    const stages = `alert opened after ${Date.parse(alert.openedAt) - opened} ms, all three reached after ${reached} ms`;
    console.info(`simulator input → Telegram, Zalo and e-mail: ${stages}`);
    expect(reached, stages).toBeLessThan(5000);
    expect(alert).toMatchObject({ camera: 'cua-kho', severity: 'critical' });
    const tg = services.telegram.sent[0]!;
    expect(tg.chatId).toBe(CHAT);
    for (const text of [tg.text, services.zalo.sent[0]!.text!, services.smtp.messages[0]!.text!]) {
      expect(text).toContain('Tín hiệu từ cảm biến (cửa, nút báo động)');
      expect(text).toContain('Cửa kho – Kho Hà Nội');
      expect(text).toContain('Nghiêm trọng');
    }
    // The agent grabbed the camera's snapshot over ONVIF and uploaded it; every channel carries the same JPEG.
    const row = await hub.pg.query<{ snapshot: string | null }>(
      `SELECT e.snapshot FROM alert_events ae JOIN events e ON e.id = ae.event_id WHERE ae.alert_id = $1`,
      [alert.id],
    );
    const ref = row.rows.find((r) => r.snapshot)?.snapshot;
    expect(ref, 'the event carries a snapshot').toBeTruthy();
    const file = (await hub.container.snapshots.open(ref!))!;
    const chunks: Buffer[] = [];
    for await (const c of file.stream) chunks.push(c as Buffer);
    const jpeg = Buffer.concat(chunks);
    expect(jpeg[0]).toBe(0xff);
    expect(tg.method).toBe('sendPhoto');
    expect(tg.photo!.bytes.equals(jpeg)).toBe(true);
    expect(services.zalo.sent[0]!.image!.equals(jpeg)).toBe(true);
    expect(services.smtp.messages[0]!.attachments[0]!.content.equals(jpeg)).toBe(true);

    const log = await waitFor(async () => {
      const items = (await api.get<{ items: Delivery[] }>(`/api/v1/notifications/deliveries?alertId=${alert.id}`)).body
        .items;
      return items.length === 3 && items.every((d) => d.status === 'delivered') ? items : null;
    });
    expect(log.map((d) => d.channel).sort()).toEqual(['email', 'telegram', 'zalo']);
  });
});
