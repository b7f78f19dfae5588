import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../edge-agent/src/agent.js';
import { parseConfig } from '../../edge-agent/src/config.js';
import { tempDir } from '../../edge-agent/src/testing/harness.js';
import { startSimulator, type Simulator } from '../simulator/index.js';
import { buildHub, createHubEnv, hubUrl, type TestHubEnv } from '../support/hub.js';
import { uniqueToken } from '../support/ids.js';
import { REPO_ROOT } from '../support/processes.js';
import { waitFor } from '../support/wait.js';
import { ensureConsoleBuilt, launchChromium } from './browser.js';

// The console in headless Chromium against the real hub (in this process, listening), the real edge agent and the
// ONVIF simulator, over the real Mosquitto, PostgreSQL and Redis.
const BASE_PORT = 27_000 + Math.floor(Math.random() * 900) * 10;
const SITE = `hcm-${uniqueToken().slice(0, 6)}`;
const CAMERAS = ['cong-chinh', 'bai-xe', 'sanh-a', 'kho-hang'];
const AGENT_TOKEN = `agent-${uniqueToken()}`;
const ADMIN_PASSWORD = `admin-${uniqueToken()}`;
const SCREENSHOTS = join(REPO_ROOT, 'docs/screenshots');
const VIEWPORT = { width: 1920, height: 1080 };

let env: TestHubEnv;
let hub: FastifyInstance;
let url: string;
let sim: Simulator;
let agent: Agent;
let dataDir: string;
let browser: Browser;
/** Whether this hub has sign-in (POST /api/v1/auth/login); without it the console runs open, as admin. */
let authAvailable = false;
const passwords: Record<string, string> = {};

async function api(path: string, init: RequestInit & { token?: string } = {}) {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
  if (init.body) headers['content-type'] = 'application/json';
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  return fetch(`${url}/api/v1${path}`, { ...init, headers });
}

async function loginToken(username: string, password: string): Promise<string> {
  const res = await api('/auth/login', { method: 'POST', body: JSON.stringify({ username, password }) });
  expect(res.status, `login ${username}`).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

/** A fresh browser context (own storage) at 1920×1080, signed in as `role` when the hub has sign-in. */
async function openAs(role: 'admin' | 'operator' | 'technician' | 'police', lang: 'vi' | 'en' = 'vi') {
  const context = await browser.newContext({ viewport: VIEWPORT, locale: lang === 'vi' ? 'vi-VN' : 'en-GB' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(url);
  if (authAvailable) {
    await page.getByLabel('Tên đăng nhập').fill(role === 'admin' ? 'admin' : `e2e-${role}`);
    await page.getByLabel('Mật khẩu').fill(passwords[role]!);
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
  }
  await page.locator('header.top nav').waitFor();
  return { context, page, errors };
}

async function shot(page: Page, name: string) {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

async function navLinks(page: Page): Promise<string[]> {
  return page.locator('header.top nav a').allTextContents();
}

beforeAll(async () => {
  ensureConsoleBuilt();
  mkdirSync(SCREENSHOTS, { recursive: true });
  env = await createHubEnv({ AGENT_TOKENS: `${SITE}=${AGENT_TOKEN}`, CAMHUB_ADMIN_PASSWORD: ADMIN_PASSWORD });
  hub = await buildHub(env.config, { listen: true });
  url = hubUrl(hub);

  sim = await startSimulator({ cameras: CAMERAS.length, basePort: BASE_PORT, rtsp: false, discovery: false });
  dataDir = tempDir('console-e2e-');
  agent = new Agent(
    parseConfig({
      site: SITE,
      mqtt: { url: env.config.MQTT_URL, topicRoot: env.config.MQTT_TOPIC_ROOT },
      hub: { url, token: AGENT_TOKEN },
      dataDir,
      outbox: { maxBytes: 4 * 1024 * 1024 },
      motionTimeoutSec: 20,
      onvif: { pullTimeoutSec: 1, requestTimeoutMs: 2000, backoffMinMs: 100, backoffMaxMs: 1000 },
      health: { intervalSec: 2 },
      cameras: sim.cameras.map((c, i) => ({
        id: CAMERAS[i]!,
        name: CAMERAS[i]!,
        host: c.host,
        port: c.port,
        username: c.username,
        password: c.password,
      })),
    }),
    pino({ level: process.env.E2E_AGENT_LOG ?? 'silent' }),
  );
  agent.start();

  const probe = await api('/auth/login', { method: 'POST', body: JSON.stringify({ username: 'x', password: 'y' }) });
  authAvailable = probe.status !== 404;
  if (authAvailable) {
    passwords.admin = ADMIN_PASSWORD;
    const admin = await loginToken('admin', ADMIN_PASSWORD);
    for (const role of ['operator', 'technician', 'police'] as const) {
      passwords[role] = `pw-${role}-${uniqueToken()}`;
      const res = await api('/users', {
        method: 'POST',
        token: admin,
        body: JSON.stringify({ username: `e2e-${role}`, password: passwords[role], roles: [role] }),
      });
      expect(res.status, `create ${role}: ${await res.clone().text()}`).toBeLessThan(300);
    }
  }

  // Every camera online (health flows) and one event with a snapshot, before the browser looks.
  await waitFor(
    async () => {
      const res = await api('/cameras', {
        token: authAvailable ? await loginToken('admin', ADMIN_PASSWORD) : undefined,
      });
      const body = (await res.json()) as { items: { status: string }[] };
      return body.items.length === CAMERAS.length && body.items.every((c) => c.status === 'online');
    },
    { timeoutMs: 30_000, intervalMs: 500, what: 'every camera online in the hub' },
  );
  sim.cameras[0]!.setMotion(true);
  await new Promise((r) => setTimeout(r, 800));
  sim.cameras[0]!.setMotion(false);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await agent?.stop();
  await sim?.close();
  await hub?.close();
  await env?.cleanup();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('web console in a real browser', () => {
  it('is served by the hub with the right caching headers', async () => {
    const index = await fetch(`${url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const html = await index.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const js = await fetch(`${url}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    // Nothing from a CDN: every script and stylesheet is the hub's own.
    expect(html).not.toMatch(/https?:\/\//);
    // An unknown API path is still the API's JSON 404, not the console.
    const missing = await fetch(`${url}/api/v1/no-such-thing`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'route_not_found' } });
  });

  it('shows the operator a living camera wall in Vietnamese; motion lights a tile and the rail within seconds', async () => {
    const { context, page, errors } = await openAs('operator');
    try {
      expect(await page.locator('html').getAttribute('lang')).toBe('vi');
      await page.getByRole('heading', { name: 'Màn hình camera' }).waitFor();
      const tiles = page.locator('ul.wall > li');
      await waitFor(async () => (await tiles.count()) === CAMERAS.length, { what: 'four tiles' });
      expect(await page.locator('ul.wall .badge').allTextContents()).toEqual(Array(CAMERAS.length).fill('Trực tuyến'));
      // The snapshot taken at the earlier motion is on the first camera's tile.
      await page.locator(`ul.wall > li[data-camera="${CAMERAS[0]}"] img.tile-img`).waitFor({ timeout: 15_000 });
      expect(await navLinks(page)).toEqual(
        expect.arrayContaining(['Màn hình camera', 'Cảnh báo', 'Tình trạng camera', 'Tra cứu lịch sử']),
      );

      const started = Date.now();
      sim.cameras[1]!.setMotion(true);
      const tile = page.locator(`ul.wall > li[data-camera="${CAMERAS[1]}"]`);
      await tile.and(page.locator('[data-active="true"]')).waitFor({ timeout: 10_000 });
      const tileMs = Date.now() - started;
      await page.locator(`.rail-list li[data-camera="${CAMERAS[1]}"]`).first().waitFor({ timeout: 10_000 });
      const railMs = Date.now() - started;
      await tile.locator('img.tile-img').waitFor({ timeout: 15_000 });
      console.log(`motion → lit tile ${tileMs} ms, → rail ${railMs} ms`);
      expect(tileMs).toBeLessThan(10_000);
      await expect.poll(() => tile.locator('.flag.motion').textContent()).toBe('Có chuyển động');
      await shot(page, 'wall');
      sim.cameras[1]!.setMotion(false);

      // Four cameras fill a 2×2 grid exactly.
      await page.getByRole('button', { name: '2×2' }).click();
      await waitFor(async () => (await tiles.count()) === 4, { what: '2×2 grid' });

      // Open a camera: its latest events with thumbnails and its health.
      await tile.locator('a').click();
      await page.getByRole('heading', { name: `Camera ${CAMERAS[1]}` }).waitFor();
      await page.locator('.event-grid li').first().waitFor();
      await page.locator('.camera-view img.big-img').waitFor({ timeout: 15_000 });
      await shot(page, 'camera');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('gives technicians the health board: sort, filter, and a camera page with charts and uptime', async () => {
    const { context, page, errors } = await openAs(authAvailable ? 'technician' : 'admin');
    try {
      if (authAvailable) expect(await navLinks(page)).toEqual(['Tình trạng camera']);
      await page.goto(`${url}/#/health`);
      await page.getByRole('heading', { name: 'Tình trạng camera' }).waitFor();
      const rows = page.locator('table.data tbody tr');
      await waitFor(async () => (await rows.count()) === CAMERAS.length, { what: 'health rows' });
      await page.getByRole('button', { name: 'Sắp xếp theo Camera' }).click();
      const names = await page.locator('table.data tbody tr td:first-child').allTextContents();
      expect(names).toEqual([...CAMERAS].sort());
      await page.getByLabel('Lọc theo tên').fill('kho');
      await waitFor(async () => (await rows.count()) === 1, { what: 'filtered to one row' });
      await page.getByLabel('Lọc theo tên').fill('');
      await shot(page, 'health');

      await page.getByRole('link', { name: CAMERAS[2]! }).click();
      await page.locator('figure.chart').first().waitFor();
      expect(await page.locator('figure.chart figcaption').allTextContents()).toEqual(
        expect.arrayContaining([expect.stringContaining('Khung hình/giây')]),
      );
      await page.getByText(/Thời gian hoạt động/).waitFor();
      await page.getByRole('button', { name: '1 giờ' }).click();
      // No RTSP in this run, so no stream figures: the ONVIF latency chart has a line, fps says it has no data.
      const latency = page.locator('figure.chart').filter({ hasText: 'Độ trễ' }).locator('path.line');
      await expect.poll(() => latency.getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+L/);
      await shot(page, 'health-camera');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('lets the police search history, open a snapshot and start an evidence export', async () => {
    const { context, page, errors } = await openAs(authAvailable ? 'police' : 'admin');
    try {
      if (authAvailable) expect(await navLinks(page)).toEqual(['Tra cứu lịch sử']);
      await page.goto(`${url}/#/history`);
      await page.getByRole('heading', { name: 'Tra cứu lịch sử' }).waitFor();
      await page.locator('select[name="camera"]').selectOption(CAMERAS[0]!);
      await page.locator('select[name="type"]').selectOption('motion');
      await page.getByRole('button', { name: 'Tìm kiếm' }).click();
      const results = page.locator('.event-grid li');
      await results.first().waitFor();
      const texts = await results.allTextContents();
      expect(texts.length).toBeGreaterThan(0);
      for (const text of texts) expect(text).toContain(CAMERAS[0]);
      expect(texts.join(' ')).toContain('Chuyển động');

      await page.getByRole('button', { name: 'Mở ảnh' }).first().click();
      const image = page.locator('dialog.snapshot-dialog img.full-img');
      await image.waitFor();
      expect(await image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
      await shot(page, 'history');
      await page.getByRole('button', { name: 'Đóng' }).click();

      await page.getByRole('button', { name: 'Xuất bằng chứng' }).click();
      // Either the export runs (and becomes downloadable) or this hub says it has no exports yet.
      await page.locator('.export [role="status"], .export .notice').first().waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows alerts to operators, open first; acknowledges and resolves one where the hub has alerts', async () => {
    const { context, page, errors } = await openAs(authAvailable ? 'operator' : 'admin');
    try {
      await page.goto(`${url}/#/alerts`);
      await page.getByRole('heading', { name: 'Cảnh báo' }).first().waitFor();
      const probe = await api('/alerts', {
        token: authAvailable ? await loginToken('e2e-operator', passwords.operator!) : undefined,
      });
      if (probe.status === 404) {
        await page.getByText('Chức năng này chưa có trên hub').waitFor();
        await shot(page, 'alerts');
        return;
      }
      // A motion on the gate camera: the hub's rules turn it into an alert.
      sim.cameras[0]!.setMotion(true);
      const item = page.locator('.alert-item').first();
      await item.waitFor({ timeout: 20_000 });
      sim.cameras[0]!.setMotion(false);
      await item.locator('a').click();
      await page.getByRole('button', { name: 'Xác nhận' }).click();
      await expect.poll(() => page.locator('.alert-status').textContent(), { timeout: 10_000 }).toBe('Đã xác nhận');
      await page.getByLabel('Bình luận').fill('Đã kiểm tra tại chỗ');
      await page.getByRole('button', { name: 'Thêm bình luận' }).click();
      await page.getByText('Đã kiểm tra tại chỗ').waitFor();
      await shot(page, 'alerts');
      await page.getByRole('button', { name: 'Đã xử lý xong' }).click();
      await expect.poll(() => page.locator('.alert-status').textContent(), { timeout: 10_000 }).toBe('Đã xử lý');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('gives admins the admin view', async () => {
    const { context, page, errors } = await openAs('admin');
    try {
      expect(await navLinks(page)).toEqual([
        'Màn hình camera',
        'Cảnh báo',
        'Tình trạng camera',
        'Tra cứu lịch sử',
        'Quản trị',
      ]);
      await page.goto(`${url}/#/admin/users`);
      await page.getByRole('heading', { name: 'Quản trị' }).waitFor();
      await page.locator('table.data, .notice').first().waitFor();
      await shot(page, 'admin');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('switches to English in one click and remembers it', async () => {
    const { context, page } = await openAs('admin');
    try {
      await page.getByRole('heading', { name: 'Màn hình camera' }).waitFor();
      await page.getByRole('button', { name: 'Chuyển sang tiếng Anh' }).click();
      await page.getByRole('heading', { name: 'Camera wall' }).waitFor();
      expect(await page.locator('html').getAttribute('lang')).toBe('en');
      expect(await page.locator('ul.wall .badge').first().textContent()).toBe('Online');
      await shot(page, 'wall-en');
      await page.reload();
      await page.getByRole('heading', { name: 'Camera wall' }).waitFor();
      await page.getByRole('button', { name: 'Switch to Vietnamese' }).click();
      await page.getByRole('heading', { name: 'Màn hình camera' }).waitFor();
    } finally {
      await context.close();
    }
  });

  it('keeps each role to its own views', async (ctx) => {
    if (!authAvailable) {
      ctx.skip();
      return;
    }
    const { context, page } = await openAs('technician');
    try {
      await page.goto(`${url}/#/history`);
      await page.getByText('Bạn không có quyền xem mục này.').waitFor();
      await page.goto(`${url}/#/wall`);
      await page.getByText('Bạn không có quyền xem mục này.').waitFor();
    } finally {
      await context.close();
    }
  });
});
