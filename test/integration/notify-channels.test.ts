import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type Alert, type Topics, type Delivery, type Target } from '@camhub/shared';
import type { FastifyInstance } from 'fastify';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApi, type AdminApi } from '../support/auth.js';
import { makeCameraStatus, makeEvent } from '../support/factories.js';
import { useNotifyServices, usePublisher, useTestHub } from '../support/hub-fixture.js';
import { publishJson } from '../support/mqtt.js';
import type { SmtpTestServer } from '../support/smtp.js';
import type { TelegramStandIn } from '../support/telegram-stand-in.js';
import { sleep, waitFor } from '../support/wait.js';
import type { ZaloStandIn } from '../support/zalo-stand-in.js';

// Telegram and Zalo: local stand-ins implementing their documented requests and answers (test/support);
// e-mail: a real SMTP server on loopback with STARTTLS and a login, messages parsed by mailparser.
const BOT_TOKEN = `7123456789:${randomBytes(18).toString('base64url')}`;
const CHAT = '-1001234567890';
const CHAT_2 = '-1009876543210';
const ZALO_APP = { appId: '4318927365019283', appSecret: `zalo-secret-${randomBytes(8).toString('hex')}` };
const FOLLOWERS = ['2468458835296117922', '5587712093348127741'];
const SMTP_USER = 'camhub@example.vn';
const SMTP_PASSWORD = `smtp-${randomBytes(8).toString('hex')}`;
const CONSOLE = 'https://camhub.example.vn';

let telegram: TelegramStandIn;
let zalo: ZaloStandIn;
let smtp: SmtpTestServer;
let hub: FastifyInstance;
let pub: MqttClient;
let api: AdminApi;
let t: Topics;

/** A small JPEG (SOI … EOI) with random bytes inside, stored the way an agent's upload would be. */
async function storedSnapshot(): Promise<{ ref: string; bytes: Buffer }> {
  const bytes = Buffer.concat([
    Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'),
    randomBytes(64),
    Buffer.from('ffd9', 'hex'),
  ]);
  const ref = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  await hub.container.snapshots.put(ref, bytes);
  return { ref, bytes };
}

async function openAlert(
  site: string,
  camera: string,
  opts: { type?: 'intrusion' | 'storage_failure'; snapshot?: string } = {},
): Promise<Alert> {
  const e = makeEvent({
    site,
    camera,
    type: opts.type ?? 'intrusion',
    state: 'pulse',
    ...(opts.snapshot ? { snapshot: opts.snapshot } : {}),
  });
  await publishJson(pub, t.events(site, camera), e);
  return waitFor(
    async () => (await api.get<{ items: Alert[] }>(`/api/v1/alerts?site=${site}&camera=${camera}`)).body.items[0],
    { what: `alert at ${site}/${camera}` },
  );
}

async function target(body: Record<string, unknown>): Promise<Target> {
  const res = await api.post<Target>('/api/v1/notification-targets', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const deliveriesOf = async (alertId: string) =>
  (await api.get<{ items: Delivery[] }>(`/api/v1/notifications/deliveries?alertId=${alertId}`)).body.items;

/** An e-mail target's settings for the SMTP server on loopback (STARTTLS, the test's login). */
const emailConfig = (from: string, to: string[]) => ({
  host: '127.0.0.1',
  port: smtp.port,
  security: 'starttls',
  username: SMTP_USER,
  password: SMTP_PASSWORD,
  from,
  to,
});

const telegramTarget = (siteIds: string[], extra: Record<string, unknown> = {}, chatId = CHAT) =>
  target({
    channel: 'telegram',
    name: `Telegram ${siteIds.join(',')}`,
    siteIds,
    config: { botToken: BOT_TOKEN, chatId },
    ...extra,
  });

const services = useNotifyServices({
  telegram: { token: BOT_TOKEN, chats: [CHAT, CHAT_2] },
  zalo: { ...ZALO_APP, followers: FOLLOWERS },
  smtp: { username: SMTP_USER, password: SMTP_PASSWORD },
});
const fixture = useTestHub(() => ({
  ALERT_TICK_SEC: 1,
  WEBHOOK_BACKOFF_MS: 150,
  WEBHOOK_ATTEMPTS: 4,
  WEBHOOK_TIMEOUT_MS: 3000,
  ...services.hubConfig(),
  CONSOLE_URL: CONSOLE,
}));
const mqtt = usePublisher(fixture);
beforeAll(async () => {
  ({ hub } = fixture);
  ({ telegram, zalo, smtp } = services);
  ({ pub, topics: t } = mqtt);
  // The site's name for people comes from the sites registry.
  await hub.container.services.sites.create(
    { id: 'nc-1', name: 'Trường Tiểu học Tân Dân', kind: 'school' },
    {},
    { actor: 'test', roles: [], ip: null },
  );
  api = adminApi(hub);
});

afterAll(async () => {});

describe('notifications through Telegram, Zalo and e-mail', () => {
  it('an alert reaches all three, in Vietnamese, with the snapshot and a link into the console', async () => {
    const tg = await telegramTarget(['nc-1']);
    const za = await target({
      channel: 'zalo',
      name: 'Hội đồng an ninh (Zalo)',
      siteIds: ['nc-1'],
      config: { ...ZALO_APP, mode: 'users', userIds: FOLLOWERS, ...zalo.tokens() },
    });
    const em = await target({
      channel: 'email',
      name: 'Ban giám hiệu',
      siteIds: ['nc-1'],
      config: emailConfig('camhub <camhub@example.vn>', ['hieutruong@example.vn', 'baove@example.vn']),
    });

    // Secrets are write-only: never in an answer, sealed (not in clear) in the database.
    const listed = JSON.stringify((await api.get('/api/v1/notification-targets')).body);
    for (const secret of [BOT_TOKEN, ZALO_APP.appSecret, zalo.tokens().accessToken, SMTP_PASSWORD]) {
      expect(listed).not.toContain(secret);
      const { rows } = await hub.pg.query(
        'SELECT count(*)::int AS n FROM notification_targets WHERE config::text LIKE $1 OR secrets LIKE $1',
        [`%${secret}%`],
      );
      expect(rows[0].n).toBe(0);
    }
    expect(tg.secretsSet).toEqual(['botToken']);
    expect(za.secretsSet.sort()).toEqual(['accessToken', 'appSecret', 'refreshToken']);
    expect(em).toMatchObject({
      secretsSet: ['password'],
      config: { host: '127.0.0.1', to: ['hieutruong@example.vn', 'baove@example.vn'] },
    });

    await publishJson(
      pub,
      t.status('nc-1', 'gate'),
      makeCameraStatus({ site: 'nc-1', camera: 'gate', name: 'Cổng chính' }),
    );
    await waitFor(
      async () => (await hub.pg.query(`SELECT 1 FROM cameras WHERE site = 'nc-1' AND name = 'Cổng chính'`)).rowCount,
      { what: 'camera name' },
    );
    // The gate camera keeps clips (one from earlier today): its alerts' messages link the event's clip.
    await hub.pg.query(
      `INSERT INTO event_clips (event_id, site, camera, ref, start_at, duration_ms, bytes, cut_at, received_at)
       VALUES ($1, 'nc-1', 'gate', $2, now() - interval '2 hours', 15000, 1000, now(), now())`,
      [randomUUID(), `sha256:${'a'.repeat(64)}`],
    );
    const snap = await storedSnapshot();
    const alert = await openAlert('nc-1', 'gate', { snapshot: snap.ref });
    const eventId = (
      await hub.pg.query<{ event_id: string }>('SELECT event_id FROM alert_events WHERE alert_id = $1', [alert.id])
    ).rows[0]!.event_id;
    const clipLink = `${CONSOLE}/#/camera/nc-1/gate?clip=${eventId}`;
    // The 5 s figure is asserted end to end from the simulator (notify-simulator.test.ts); here only what arrives.
    await waitFor(() => telegram.sent.length >= 1 && zalo.sent.length >= 2 && smtp.messages.length >= 1, {
      what: 'all three channels',
      timeoutMs: 20_000,
    });

    const link = `${CONSOLE}/#/alerts/${alert.id}`;
    const msg = telegram.sent[0]!;
    expect(msg).toMatchObject({ method: 'sendPhoto', chatId: CHAT });
    expect(msg.photo!.bytes.equals(snap.bytes)).toBe(true);
    expect(msg.photo!.type).toBe('image/jpeg');
    for (const text of [msg.text, zalo.sent[0]!.text!]) {
      expect(text).toContain('Cảnh báo mới: Xâm nhập khu vực cấm');
      expect(text).toContain('Địa điểm: Cổng chính – Trường Tiểu học Tân Dân');
      expect(text).toContain('Mức độ: Nghiêm trọng');
      expect(text).toMatch(/Thời gian: .*\(Asia\/Ho_Chi_Minh\)/);
      expect(text).toContain(link);
      expect(text).toContain(`Xem video: ${clipLink}`);
    }
    // The site's wall clock: the alert's opening time in UTC+7.
    const local = new Intl.DateTimeFormat('vi-VN', {
      timeZone: 'Asia/Ho_Chi_Minh',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(new Date(alert.openedAt));
    expect(msg.text).toContain(local);

    expect(zalo.sent.map((s) => s.to).sort()).toEqual([...FOLLOWERS].sort());
    for (const s of zalo.sent) {
      expect(s.kind).toBe('cs');
      expect(s.image!.equals(snap.bytes)).toBe(true);
    }

    const mail = smtp.messages[0]!;
    expect(mail.subject).toBe('[Nghiêm trọng] Xâm nhập khu vực cấm – Cổng chính – Trường Tiểu học Tân Dân');
    expect(mail.text).toContain('Sự việc: Xâm nhập khu vực cấm (Xâm nhập hoặc vượt hàng rào ảo)');
    expect(mail.text).toContain(link);
    expect((mail.to as { value: { address: string }[] }).value.map((v) => v.address)).toEqual([
      'hieutruong@example.vn',
      'baove@example.vn',
    ]);
    expect(mail.attachments).toHaveLength(1);
    expect(mail.attachments[0]).toMatchObject({ contentType: 'image/jpeg', filename: 'snapshot.jpg' });
    expect(mail.attachments[0]!.content.equals(snap.bytes)).toBe(true);

    const log = await waitFor(
      async () => {
        const items = await deliveriesOf(alert.id);
        return items.length === 3 && items.every((d) => d.status === 'delivered') ? items : null;
      },
      { what: 'three delivered' },
    );
    expect(log.map((d) => d.channel).sort()).toEqual(['email', 'telegram', 'zalo']);
    expect(log.map((d) => d.targetId).sort()).toEqual([tg.id, za.id, em.id].sort());

    // Every change to a target is in the audit trail, without its secrets.
    const audit = await hub.pg.query(
      `SELECT action, detail::text FROM audit_log WHERE action LIKE 'notify.%' ORDER BY seq`,
    );
    expect(audit.rows.map((r) => r.action)).toEqual([
      'notify.target_created',
      'notify.target_created',
      'notify.target_created',
    ]);
    expect(JSON.stringify(audit.rows)).not.toContain(BOT_TOKEN);
  });

  it('English per target, when chosen', async () => {
    await telegramTarget(['nc-en'], { language: 'en' });
    const before = telegram.sent.length;
    await openAlert('nc-en', 'yard');
    const msg = await waitFor(() => telegram.sent[before], { what: 'english message' });
    expect(msg).toMatchObject({ method: 'sendMessage', chatId: CHAT });
    expect(msg.text).toContain('New alert: Intrusion into a restricted area');
    expect(msg.text).toContain('Where: yard – nc-en');
    expect(msg.text).toContain('Severity: Critical');
    // A camera that keeps no clips: no video link.
    expect(msg.text).not.toContain('Video:');
  });

  it("honours Telegram's 429 retry_after instead of its own backoff", async () => {
    await telegramTarget(['nc-429']);
    telegram.floodOnce(1);
    const before = telegram.attempts.length;
    const alert = await openAlert('nc-429', 'gate');
    const d = await waitFor(async () => (await deliveriesOf(alert.id)).find((x) => x.status === 'delivered'), {
      what: 'delivered after 429',
    });
    expect(d).toMatchObject({ channel: 'telegram', attempts: 2, lastStatus: 200 });
    const tries = telegram.attempts.slice(before).filter((a) => a.path.endsWith('/sendMessage'));
    expect(tries).toHaveLength(2);
    // WEBHOOK_BACKOFF_MS is 150 ms here: the second try waited for retry_after (1 s) instead.
    expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('refreshes an expired Zalo access token once and keeps the rotated pair sealed', async () => {
    const za = await target({
      channel: 'zalo',
      name: 'Zalo refresh',
      siteIds: ['nc-zr'],
      config: { ...ZALO_APP, mode: 'followers', ...zalo.tokens() },
    });
    zalo.expireAccessToken();
    const before = zalo.sent.length;
    const alert = await openAlert('nc-zr', 'gate');
    const d = await waitFor(async () => (await deliveriesOf(alert.id)).find((x) => x.status === 'delivered'), {
      what: 'zalo after refresh',
    });
    expect(d.attempts).toBe(1);
    expect(zalo.refreshes()).toBe(1);
    expect(
      zalo.sent
        .slice(before)
        .map((s) => s.to)
        .sort(),
    ).toEqual([...FOLLOWERS].sort());
    // The new refresh token was stored (sealed): the next send uses the new access token without refreshing.
    const { rows } = await hub.pg.query('SELECT secrets FROM notification_targets WHERE id = $1', [za.id]);
    expect(rows[0].secrets).not.toContain(zalo.tokens().refreshToken);
    const next = await openAlert('nc-zr', 'yard');
    await waitFor(async () => (await deliveriesOf(next.id)).find((x) => x.status === 'delivered'), {
      what: 'second zalo',
    });
    expect(zalo.refreshes()).toBe(1);

    // A refresh token Zalo no longer accepts: the delivery fails at once, it is not retried.
    zalo.expireAccessToken();
    zalo.revokeRefreshToken();
    const third = await openAlert('nc-zr', 'door');
    const failed = await waitFor(async () => (await deliveriesOf(third.id)).find((x) => x.status === 'failed'), {
      what: 'refused refresh',
    });
    expect(failed.attempts).toBe(1);
    expect(failed.lastError).toContain('-14014');
    expect(failed.lastErrorCode).toBe('token_refresh_refused');
  });

  it('sends Zalo ZNS templates to phone numbers', async () => {
    await target({
      channel: 'zalo',
      name: 'ZNS',
      siteIds: ['nc-zns'],
      config: { ...ZALO_APP, mode: 'zns', phones: ['84912345678'], templateId: '231456', ...zalo.tokens() },
    });
    const alert = await openAlert('nc-zns', 'gate');
    const s = await waitFor(
      () => zalo.sent.find((x) => x.kind === 'zns' && x.templateData?.where === 'gate – nc-zns'),
      { what: 'zns' },
    );
    expect(s).toMatchObject({ to: '84912345678', templateId: '231456' });
    expect(s.templateData).toMatchObject({
      what: 'Xâm nhập khu vực cấm',
      severity: 'Nghiêm trọng',
      link: `${CONSOLE}/#/alerts/${alert.id}`,
    });
  });

  it('retries an SMTP 4xx and gives up at once on a 5xx', async () => {
    await target({
      channel: 'email',
      name: 'SMTP classes',
      siteIds: ['nc-smtp'],
      config: emailConfig('camhub@example.vn', ['a@example.vn']),
    });
    smtp.failNext(451);
    const a = await openAlert('nc-smtp', 'gate');
    const ok = await waitFor(async () => (await deliveriesOf(a.id)).find((x) => x.status === 'delivered'), {
      what: 'after 451',
    });
    expect(ok.attempts).toBe(2);
    // The first attempt's reason was kept as a code while it waited: the log keeps the last one (cleared on success).
    expect(ok).toMatchObject({ lastErrorCode: null });
    smtp.failNext(554);
    const b = await openAlert('nc-smtp', 'yard');
    const bad = await waitFor(async () => (await deliveriesOf(b.id)).find((x) => x.status === 'failed'), {
      what: 'after 554',
    });
    expect(bad).toMatchObject({
      attempts: 1,
      lastStatus: 554,
      lastErrorCode: 'smtp_permanent',
      lastErrorParams: { status: 554 },
    });
  });

  it('marks a permanently failing target, stops sending to it, and a successful test clears it', async () => {
    const tg = await telegramTarget(['nc-kick'], {}, CHAT_2);
    telegram.kickFrom(CHAT_2);
    for (const cam of ['c1', 'c2', 'c3']) {
      const a = await openAlert('nc-kick', cam);
      const f = await waitFor(async () => (await deliveriesOf(a.id)).find((x) => x.status === 'failed'), {
        what: `failed ${cam}`,
      });
      expect(f).toMatchObject({
        attempts: 1,
        lastStatus: 403,
        lastErrorCode: 'service_refused',
        lastErrorParams: { service: 'telegram', code: 403, status: 403 },
      });
    }
    const marked = (await api.get<Target>(`/api/v1/notification-targets/${tg.id}`)).body;
    // A code and its parameters for the console to word; the service's own text only as detail.
    expect(marked).toMatchObject({
      failing: true,
      lastFailureCode: 'service_refused',
      lastFailureParams: { service: 'telegram', code: 403 },
      lastFailure: expect.stringContaining('403'),
    });
    const tried = telegram.attempts.length;
    const a4 = await openAlert('nc-kick', 'c4');
    const skipped = await waitFor(async () => (await deliveriesOf(a4.id)).find((x) => x.status === 'failed'), {
      what: 'skipped',
    });
    expect(skipped.lastErrorCode).toBe('target_failing');
    expect(skipped.attempts).toBe(0);
    expect(telegram.attempts.length).toBe(tried);

    const refused = await api.post<{ ok: boolean; error: string }>(`/api/v1/notification-targets/${tg.id}/test`);
    expect(refused.body).toMatchObject({
      ok: false,
      code: 'service_refused',
      params: { service: 'telegram', code: 403 },
      error: expect.stringContaining('403'),
    });
    telegram.readmit(CHAT_2);
    const sent = await api.post<{ ok: boolean }>(`/api/v1/notification-targets/${tg.id}/test`);
    expect(sent.body).toMatchObject({ ok: true });
    expect(telegram.sent[telegram.sent.length - 1]).toMatchObject({
      chatId: CHAT_2,
      text: expect.stringContaining('tin nhắn thử'),
    });
    expect((await api.get<Target>(`/api/v1/notification-targets/${tg.id}`)).body.failing).toBe(false);
  });

  it("hands a message that failed for good to the target's second", async () => {
    const second = await target({
      channel: 'email',
      name: 'Trực ban dự phòng',
      siteIds: ['nc-none'],
      ruleIds: [],
      config: emailConfig('camhub@example.vn', ['duphong@example.vn']),
    });
    await telegramTarget(['nc-fb'], { escalateTo: second.id }, CHAT_2);
    telegram.kickFrom(CHAT_2);
    try {
      const a = await openAlert('nc-fb', 'gate');
      const mail = await waitFor(() => smtp.messages.find((m) => m.text?.includes('gate – nc-fb')), {
        what: 'fallback e-mail',
      });
      expect((mail.to as { value: { address: string }[] }).value[0]!.address).toBe('duphong@example.vn');
      const log = await deliveriesOf(a.id);
      expect(log.find((d) => d.channel === 'telegram')).toMatchObject({ status: 'failed', lastStatus: 403 });
      expect(log.find((d) => d.channel === 'email')?.targetId).toBe(second.id);
    } finally {
      telegram.readmit(CHAT_2);
    }
  });

  it('quiet hours hold a warning and let a critical through', async () => {
    // A window around now on the site's clock (Asia/Ho_Chi_Minh), so the test holds whatever the hour.
    const hhmm = (d: Date) =>
      new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Asia/Ho_Chi_Minh',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).format(d);
    const now = Date.now();
    await telegramTarget(['nc-quiet'], {
      quietHours: { windows: [{ start: hhmm(new Date(now - 60_000)), end: hhmm(new Date(now + 10 * 60_000)) }] },
    });
    const before = telegram.sent.length;
    const warning = await openAlert('nc-quiet', 'disk', { type: 'storage_failure' }); // default rule: warning
    const critical = await openAlert('nc-quiet', 'gate'); // default rule: critical
    await waitFor(async () => (await deliveriesOf(critical.id)).find((x) => x.status === 'delivered'), {
      what: 'critical through',
    });
    const held = await waitFor(async () => (await deliveriesOf(warning.id)).find((x) => x.status === 'held'), {
      what: 'held warning',
    });
    expect(held.attempts).toBe(0);
    await sleep(500);
    const texts = telegram.sent.slice(before).map((s) => s.text);
    expect(texts).toHaveLength(1);
    expect(texts[0]).toContain('Nghiêm trọng');

    // Held until the window ends: its job waits exactly that long. Promoting it plays the end of the quiet hours.
    const { rows } = await hub.pg.query<{ wait: number }>(
      `SELECT extract(epoch FROM not_before - created_at) * 1000 AS wait FROM notification_deliveries WHERE id = $1`,
      [held.id],
    );
    const job = (await hub.queues.notify.getDelayed()).find(
      (j) => j.data.kind !== 'digest' && j.data.deliveryId === held.id,
    );
    expect(job, 'a delayed job for the held delivery').toBeDefined();
    expect(Math.abs(job!.opts.delay! - Number(rows[0]!.wait))).toBeLessThan(2000);
    expect(job!.opts.delay!).toBeGreaterThan(8 * 60_000);
    await job!.promote();
    await waitFor(async () => (await deliveriesOf(warning.id)).find((x) => x.status === 'delivered'), {
      what: 'released',
    });
    const released = telegram.sent.slice(before).map((s) => s.text);
    expect(released).toHaveLength(2);
    expect(released[1]).toContain('Lỗi thẻ nhớ/ổ lưu trữ');
    expect(released[1]).toContain('Mức độ: Chú ý');
  });

  it('a digest replaces a burst beyond the rate limit', async () => {
    const windowSec = 8;
    await telegramTarget(['nc-burst'], { rateLimit: { count: 2, windowSec } });
    // Start just after a window boundary so the whole burst falls in one window.
    await waitFor(() => Date.now() % (windowSec * 1000) < 300, {
      what: 'window start',
      intervalMs: 20,
      timeoutMs: windowSec * 1000 + 1000,
    });
    const before = telegram.sent.length;
    const cams = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'];
    await Promise.all(
      cams.map((c) =>
        publishJson(
          pub,
          t.events('nc-burst', c),
          makeEvent({ site: 'nc-burst', camera: c, type: 'intrusion', state: 'pulse' }),
        ),
      ),
    );
    const digest = await waitFor(() => telegram.sent.slice(before).find((s) => s.text.includes('Tổng hợp cảnh báo')), {
      what: 'digest',
      timeoutMs: windowSec * 1000 + 8000,
    });
    const burst = telegram.sent.slice(before);
    expect(burst).toHaveLength(3); // two one by one, then the digest
    expect(digest.text).toContain('và 3 sự kiện khác');
    // The stand-in answers before the hub records the delivery: wait for the log to settle.
    const rows = await waitFor(
      async () => {
        const r = await hub.pg.query<{ status: string; n: number }>(
          `SELECT d.status, count(*)::int AS n FROM notification_deliveries d JOIN alerts a ON a.id = d.alert_id WHERE a.site = 'nc-burst' GROUP BY d.status ORDER BY d.status`,
        );
        return r.rows.some((x) => x.status === 'pending' || x.status === 'retrying') ? null : r.rows;
      },
      { what: 'settled delivery log' },
    );
    expect(rows).toEqual([
      { status: 'delivered', n: 3 },
      { status: 'digested', n: 4 },
    ]);
  });

  it("tells a target's second on escalation", async () => {
    const second = await telegramTarget(['nc-none'], { ruleIds: [] }, CHAT_2);
    await telegramTarget(['nc-esc'], { escalateTo: second.id });
    const rule = await api.post<{ id: string }>('/api/v1/alert-rules', {
      kind: 'event',
      name: 'Kho',
      severity: 'warning',
      eventTypes: ['object'],
      sites: ['nc-esc'],
      escalateAfterSec: 1,
    });
    expect(rule.status).toBe(201);
    const e = makeEvent({ site: 'nc-esc', camera: 'store', type: 'object', state: 'pulse' });
    await publishJson(pub, t.events('nc-esc', 'store'), e);
    const esc = await waitFor(() => telegram.sent.find((s) => s.chatId === CHAT_2 && s.text.includes('nâng mức')), {
      what: 'escalation to the second',
      timeoutMs: 15_000,
    });
    expect(esc.text).toContain('store – nc-esc');
  });

  it('refuses webhooks to loopback addresses, by name too, unless allow-listed', async () => {
    const hook = await target({
      channel: 'webhook',
      name: 'local',
      siteIds: ['nc-hook'],
      config: { url: `${telegram.url}/hook`, secret: 'x'.repeat(20) },
    });
    await target({
      channel: 'webhook',
      name: 'by name',
      siteIds: ['nc-hook'],
      config: { url: telegram.url.replace('127.0.0.1', 'localhost') + '/hook', secret: 'x'.repeat(20) },
    });
    const before = telegram.attempts.length;
    const a = await openAlert('nc-hook', 'gate');
    const failed = await waitFor(
      async () => {
        const items = (await deliveriesOf(a.id)).filter((x) => x.status === 'failed');
        return items.length === 2 ? items : null;
      },
      { what: 'two refused' },
    );
    for (const f of failed) {
      expect(f.attempts).toBe(1);
      expect(f.lastErrorCode).toBe('address_refused');
    }
    expect(failed.map((f) => f.targetId)).toContain(hook.id);
    expect(telegram.attempts.length).toBe(before);
  });
});
