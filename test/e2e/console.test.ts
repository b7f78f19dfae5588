import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { simCameras } from '../support/agent-config.js';
import { screenshot } from '../support/browser.js';
import { useConsoleSite } from '../support/console-session.js';
import { onPath, requireDependency } from '../support/dependencies.js';
import { uniqueToken } from '../support/ids.js';
import { freePortBlock } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

// The console in headless Chromium against the real hub (in this process, listening), the real edge agent and the
// ONVIF simulator, over the real Mosquitto, PostgreSQL and Redis.
// A free block in this file's own band (test/support/processes.ts: freePortBlock).
const BASE_PORT = await freePortBlock(32, 26000);
const SITE = `hcm-${uniqueToken().slice(0, 6)}`;
const CAMERAS = ['cong-chinh', 'bai-xe', 'sanh-a', 'kho-hang'];
const VIEWPORT = { width: 1920, height: 1080 };

const { stand, site } = useConsoleSite({
  site: SITE,
  cameras: CAMERAS.length,
  basePort: BASE_PORT,
  agent: (sim) => ({
    motionTimeoutSec: 20,
    health: { intervalSec: 2 },
    cameras: simCameras(sim.cameras, (i) => ({ id: CAMERAS[i]!, name: CAMERAS[i]! })),
  }),
});
let url: string;
const passwords: Record<string, string> = {};
let adminToken: string;
/** The camera whose motion opens a critical alert (the only one the rule watches). */
const ALERT_CAMERA = CAMERAS[3]!;

async function api(path: string, init: RequestInit & { token?: string } = {}) {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
  if (init.body) headers['content-type'] = 'application/json';
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  return fetch(`${url}/api/v1${path}`, { ...init, headers });
}

type Role = 'admin' | 'operator' | 'technician' | 'police';

/** A fresh browser context (own cookies and storage) at 1920×1080, signed in as `role` through the login form. */
const openAs = (role: Role) =>
  stand.openAs(role === 'admin' ? 'admin' : `e2e-${role}`, passwords[role]!, {
    viewport: VIEWPORT,
    acceptDownloads: true,
  });

const shot = (page: Page, name: string) => screenshot(page, name);

async function navLinks(page: Page): Promise<string[]> {
  return page.locator('header.top nav a').allTextContents();
}

beforeAll(async () => {
  ({ url, adminToken } = stand);
  passwords.admin = stand.adminPassword;
  const { sim } = site;
  for (const role of ['operator', 'technician', 'police'] as const) {
    passwords[role] = `pw-${role}-${uniqueToken()}`;
    const res = await api('/users', {
      method: 'POST',
      token: adminToken,
      body: JSON.stringify({ username: `e2e-${role}`, password: passwords[role], roles: [role] }),
    });
    expect(res.status, `create ${role}: ${await res.clone().text()}`).toBe(201);
  }
  const rule = await api('/alert-rules', {
    method: 'POST',
    token: adminToken,
    body: JSON.stringify({
      kind: 'event',
      name: 'Chuyển động tại kho',
      severity: 'critical',
      eventTypes: ['motion'],
      cameras: [`${SITE}/${ALERT_CAMERA}`],
    }),
  });
  expect(rule.status, `create rule: ${await rule.clone().text()}`).toBeLessThan(300);

  // Every camera online (health flows) and one event with a snapshot, before the browser looks.
  let lastCameras = '';
  await waitFor(
    async () => {
      const res = await api('/cameras', { token: adminToken });
      const body = (await res.json()) as { items: { status: string }[] };
      lastCameras = JSON.stringify(body).slice(0, 600);
      return body.items.length === CAMERAS.length && body.items.every((c) => c.status === 'online');
    },
    { timeoutMs: 30_000, intervalMs: 500, what: 'every camera online in the hub' },
  ).catch((err: Error) => {
    throw new Error(`${err.message}; cameras: ${lastCameras}`);
  });
  // And every camera's event subscription live at the simulator: "online" comes from health probes, which run
  // before the agent's first PullPoint is up, and a motion before it would time the subscription, not the hub.
  await waitFor(() => sim.cameras.every((c) => c.stats().activeSubscriptions >= 1), {
    timeoutMs: 30_000,
    what: 'every camera subscribed by the agent',
  });
  sim.cameras[0]!.setMotion(true);
  await new Promise((r) => setTimeout(r, 800));
  sim.cameras[0]!.setMotion(false);
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
      site.sim.cameras[1]!.setMotion(true);
      const tile = page.locator(`ul.wall > li[data-camera="${CAMERAS[1]}"]`);
      await tile.and(page.locator('[data-active="true"]')).waitFor({ timeout: 10_000 });
      const tileMs = Date.now() - started;
      await page.locator(`.rail-list li[data-camera="${CAMERAS[1]}"]`).first().waitFor({ timeout: 10_000 });
      const railMs = Date.now() - started;
      await tile.locator('img.tile-img').waitFor({ timeout: 15_000 });
      console.log(`motion → lit tile ${tileMs} ms, → rail ${railMs} ms`);
      expect(tileMs).toBeLessThan(10_000);
      await expect.poll(() => tile.locator('.flag.motion').textContent()).toBe('Chuyển động');
      await shot(page, 'wall');
      site.sim.cameras[1]!.setMotion(false);

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
    const { context, page, errors } = await openAs('technician');
    try {
      // Technicians land on the health board; of administration they open the cameras registry only.
      expect(await navLinks(page)).toEqual(['Tình trạng camera', 'Quản trị']);
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
      // Stream figures (from the simulator's RTSP) and ONVIF latency both draw lines.
      // A line needs two samples; on a loaded machine the second may come late, and the page fetches its history
      // when it opens, so reload it until the history has grown.
      for (const title of ['Khung hình/giây', 'Tốc độ bit', 'Độ trễ']) {
        const line = page.locator('figure.chart').filter({ hasText: title }).locator('path.line');
        await expect
          .poll(
            async () => {
              const d = await line.getAttribute('d', { timeout: 5_000 }).catch(() => null);
              if (!d || !d.includes('L')) {
                await page.reload();
                await page.locator('figure.chart').first().waitFor();
              }
              return d;
            },
            { timeout: 60_000, interval: 3_000 },
          )
          .toMatch(/^M[\d.]+,[\d.]+L/);
      }
      await shot(page, 'health-camera');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('lets the police search history, open a snapshot and start an evidence export', async () => {
    const { context, page, errors } = await openAs('police');
    try {
      expect(await navLinks(page)).toEqual(['Tra cứu lịch sử', 'Báo cáo sơ kết']);
      await page.getByRole('heading', { name: 'Tra cứu lịch sử' }).waitFor();
      await page.locator('select[name="camera"]').selectOption(CAMERAS[0]!);
      await page.locator('select[name="type"]').selectOption('motion');
      await page.getByRole('button', { name: 'Tìm kiếm' }).click();
      const results = page.locator('.event-grid li');
      // The search replaces the unfiltered first page: wait until every result is the gate camera's motion.
      await expect
        .poll(
          async () => {
            const texts = await results.allTextContents();
            return texts.length > 0 && texts.every((x) => x.includes(CAMERAS[0]!) && x.includes('Chuyển động'));
          },
          { timeout: 15_000 },
        )
        .toBe(true);
      expect(page.url()).toContain(`site=${SITE}&camera=${CAMERAS[0]}`);

      await page.getByRole('button', { name: 'Mở ảnh' }).first().click();
      const image = page.locator('dialog.snapshot-dialog img.full-img');
      await image.waitFor();
      expect(await image.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(
        0,
      );
      await shot(page, 'history');
      await page.getByRole('button', { name: 'Đóng' }).click();

      await page.getByLabel('Lý do / số hồ sơ').fill('Hồ sơ 2024/117');
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Xuất bằng chứng' }).click(),
      ]);
      expect(download.suggestedFilename()).toMatch(/^camhub-export-[0-9a-f-]{36}\.zip$/);
      const zipPath = join(site.dataDir, 'export.zip');
      await download.saveAs(zipPath);
      expect(readFileSync(zipPath).subarray(0, 2).toString()).toBe('PK');
      await page.getByText(/Đã tải gói xuất/).waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('lights the wall and raises a critical alert; the operator acknowledges, comments and resolves it', async () => {
    const { context, page, errors } = await openAs('operator');
    try {
      await page.getByRole('heading', { name: 'Màn hình camera' }).waitFor();
      await page.locator('[data-connection="live"]').waitFor({ timeout: 10_000 });
      site.sim.cameras[3]!.setMotion(true);
      const tile = page.locator(`ul.wall > li[data-camera="${ALERT_CAMERA}"]`);
      await tile.locator('.flag.alert').waitFor({ timeout: 15_000 });
      await page.locator('.critical-banner').waitFor({ timeout: 10_000 });
      expect(await page.locator('.critical-banner').textContent()).toContain(`Chuyển động — ${ALERT_CAMERA}`);
      site.sim.cameras[3]!.setMotion(false);

      await page.locator('header.top nav').getByRole('link', { name: 'Cảnh báo' }).click();
      await page.getByRole('heading', { name: 'Cảnh báo' }).first().waitFor();
      const item = page.locator('.alert-item').first();
      await item.waitFor();
      expect(await item.textContent()).toContain('Nghiêm trọng');
      await item.locator('a').click();
      await page.locator('.detail .event-grid li').first().waitFor();
      await page.getByRole('button', { name: 'Xác nhận' }).click();
      await expect.poll(() => page.locator('.alert-status').textContent(), { timeout: 10_000 }).toBe('Đã xác nhận');
      await page.getByLabel('Ghi chú').fill('Đã kiểm tra tại chỗ');
      await page.getByRole('button', { name: 'Thêm ghi chú' }).click();
      await page.locator('.history').getByText('Đã kiểm tra tại chỗ').waitFor();
      await shot(page, 'alerts');
      await page.getByRole('button', { name: 'Đã xử lý xong' }).click();
      await expect.poll(() => page.locator('.alert-status').textContent(), { timeout: 10_000 }).toBe('Đã xử lý');
      const history = await page.locator('.history li').allTextContents();
      expect(history.join('\n')).toMatch(/Hệ thống mở cảnh báo[\s\S]*xác nhận[\s\S]*ghi chú[\s\S]*xử lý xong/);
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
        'Báo cáo sơ kết',
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

  it('lets an admin register a unit in the sites registry, and shows its name', async () => {
    const { context, page, errors } = await openAs('admin');
    try {
      await page.goto(`${url}/#/admin/sites`);
      await page.getByRole('heading', { name: 'Đăng ký đơn vị mới' }).waitFor();
      await page.getByLabel('Mã khu vực').fill('td-dong-tam');
      await page.getByLabel('Tên đơn vị').fill('Tổ dân phố Đồng Tâm');
      await page.getByLabel('Loại đơn vị').selectOption('residential_group');
      await page.getByLabel('Người liên hệ').fill('Nguyễn Văn An');
      await page.getByLabel('Số điện thoại').fill('0912 345 678');
      await page.locator('form[aria-labelledby="site-form-title"] button[type="submit"]').click();
      await page.getByRole('status').filter({ hasText: 'Đã lưu Tổ dân phố Đồng Tâm.' }).waitFor();
      const row = page.locator('table.data tr', { hasText: 'Tổ dân phố Đồng Tâm' });
      await row.waitFor();
      expect(await row.textContent()).toContain('Tổ dân phố / thôn');
      const stored = await (await api('/sites/td-dong-tam', { token: adminToken })).json();
      expect(stored).toMatchObject({ name: 'Tổ dân phố Đồng Tâm', contactPhone: '0912 345 678' });
      await shot(page, 'sites');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('gives the committee its report on screen and as a Vietnamese PDF for the meeting', async (ctx) => {
    requireDependency(ctx, onPath('pdftotext'), 'pdftotext', 'apt-get install poppler-utils');
    // Name the test's site, as an admin would have registered it.
    const named = await api(`/sites`, {
      method: 'POST',
      token: adminToken,
      body: JSON.stringify({ id: SITE, name: 'Trường THCS Trường Sơn', kind: 'school' }),
    });
    expect([201, 409]).toContain(named.status);
    const { context, page, errors } = await openAs('admin');
    try {
      await page.goto(`${url}/#/reports`);
      await page.getByRole('heading', { name: 'Báo cáo sơ kết' }).waitFor();
      await page.getByLabel('Kỳ báo cáo').selectOption('week');
      // Motion was played on this site's cameras earlier in this file: the week's report counts it.
      const row = page.locator('table.data tr', { hasText: 'Trường THCS Trường Sơn' }).first();
      await row.waitFor();
      expect(await row.textContent()).toMatch(/\d/);
      const period = (await page.locator('.report-period').textContent()) ?? '';
      expect(period).toMatch(/^Từ ngày \d{2}\/\d{2}\/\d{4} đến hết ngày \d{2}\/\d{2}\/\d{4}/);
      await shot(page, 'report');

      const pdfPath = join(site.dataDir, 'report.pdf');
      await page.emulateMedia({ media: 'print' });
      await page.pdf({ path: pdfPath, format: 'A4', printBackground: true });
      const text = await new Promise<string>((resolve, reject) =>
        execFile('pdftotext', ['-layout', pdfPath, '-'], (err, stdout) => (err ? reject(err) : resolve(stdout))),
      );
      expect(text).toContain('Báo cáo sơ kết');
      expect(text).toContain(period.split(' · ')[0]!.trim());
      expect(text).toContain('Trường THCS Trường Sơn');
      expect(text).toContain('Hoạt động của camera');
      // The controls are for the screen only.
      expect(text).not.toContain('In / lưu PDF');
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

  it('keeps each role to its own views', async () => {
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
