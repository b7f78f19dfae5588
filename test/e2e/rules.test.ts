import { type Alert, type AuditEntry } from '@camhub/shared';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { screenshot } from '../support/browser.js';
import { useConsoleHub } from '../support/console-session.js';
import { makeEvent } from '../support/factories.js';
import { usePublisher } from '../support/hub-fixture.js';
import { uniqueToken } from '../support/ids.js';
import { publishJson } from '../support/mqtt.js';
import { waitFor } from '../support/wait.js';

// A rule edited in the console changes what raises alerts: the hub (in this process, listening) over the real
// Mosquitto, PostgreSQL and Redis, events published over MQTT as an agent publishes them, and Chromium.
const SCHOOL = `truong-${uniqueToken().slice(0, 6)}`;
const MARKET = `cho-${uniqueToken().slice(0, 6)}`;
const RULE = 'Chuyển động ban đêm';
/** 23:00 yesterday in Hà Nội (UTC+7): inside the rule's 22:00–05:00 window. */
const night = (offsetSec: number) => {
  const d = new Date(Date.now() - 86_400_000);
  d.setUTCHours(16, 0, offsetSec, 0);
  return d.toISOString();
};
/** 10:00 yesterday in Hà Nội: outside it. */
const day = (offsetSec: number) => {
  const d = new Date(Date.now() - 86_400_000);
  d.setUTCHours(3, 0, offsetSec, 0);
  return d.toISOString();
};

const stand = useConsoleHub({ ALERT_TIME_ZONE: 'Asia/Ho_Chi_Minh' });
const mqtt = usePublisher(stand);
let hub: FastifyInstance;
let url: string;
let page: Page;
let pageErrors: string[];
let adminToken: string;

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${url}/api/v1${path}`, {
    ...init,
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
  });
  expect(res.status, path).toBeLessThan(300);
  return (await res.json()) as T;
}

const alertsOf = async (site: string) => (await api<{ items: Alert[] }>(`/alerts?site=${site}`)).items;

/** Publishes motion starts as the site's agent would and waits until they are stored and evaluated. */
async function motion(site: string, camera: string, times: string[]) {
  const stored = async () =>
    (await hub.pg.query('SELECT count(*)::int AS n FROM events WHERE site = $1', [site])).rows[0].n as number;
  const before = await stored();
  for (const at of times)
    await publishJson(mqtt.pub, mqtt.topics.events(site, camera), makeEvent({ site, camera, at }));
  await waitFor(async () => (await stored()) === before + times.length, { what: `${site} events stored` });
  await hub.alerts.idle();
}

beforeAll(async () => {
  ({ hub, url, adminToken } = stand);
  for (const [id, name, kind] of [
    [SCHOOL, 'Trường Tiểu học Trường Sơn', 'school'],
    [MARKET, 'Chợ Trường Sơn', 'market'],
  ] as const) {
    await api('/sites', { method: 'POST', body: JSON.stringify({ id, name, kind, timeZone: 'Asia/Ho_Chi_Minh' }) });
  }
  ({ page, errors: pageErrors } = await stand.openAs('admin', stand.adminPassword));
}, 120_000);

describe('alert rules edited in the console', () => {
  it("the school's night-motion rule switched on and narrowed in the console raises alerts, then stops", async () => {
    // Shipped switched off: night motion at the school raises nothing.
    await motion(SCHOOL, 'san-truong', [night(0), night(10), night(20)]);
    expect(await alertsOf(SCHOOL)).toEqual([]);

    await page.goto(`${url}/#/admin/rules`);
    const row = page.locator(`[data-testid="rules"] tr[data-rule="${RULE}"]`);
    await row.getByRole('button', { name: 'Sửa' }).click();
    const form = page.locator('form.rule-form');
    await form.getByRole('heading', { name: `Sửa quy tắc: ${RULE}` }).waitFor();
    await form.getByRole('checkbox', { name: 'Trường Tiểu học Trường Sơn', exact: true }).check();
    await form.getByLabel('Đang bật').check();
    // A threshold without its window is named in Vietnamese before anything is sent.
    await form.getByLabel('Ngưỡng: số sự kiện').fill('2');
    await form.getByLabel('Trong vòng (giây)').fill('');
    await form.getByRole('button', { name: 'Lưu' }).click();
    await page
      .getByTestId('rule-problems')
      .filter({ hasText: 'Ngưỡng cần cả số sự kiện (1–100000) và khoảng thời gian' })
      .waitFor();
    await form.getByLabel('Trong vòng (giây)').fill('120');
    await screenshot(page, 'rules', { fullPage: true });
    await form.getByRole('button', { name: 'Lưu' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Đã lưu quy tắc ${RULE}.` })
      .waitFor();
    await row.filter({ hasText: 'Trường Tiểu học Trường Sơn' }).filter({ hasText: '≥ 2 / 120 s' }).waitFor();

    // Two night motions at the school now open one alert; the same at the market, or by day at the school, do not.
    await motion(MARKET, 'cong-cho', [night(30), night(40)]);
    await motion(SCHOOL, 'cong-truong', [day(0), day(10)]);
    await motion(SCHOOL, 'san-truong', [night(300), night(310)]);
    const opened = await alertsOf(SCHOOL);
    expect(opened.map((a) => [a.ruleName, a.camera, a.severity])).toEqual([[RULE, 'san-truong', 'warning']]);
    expect(await alertsOf(MARKET)).toEqual([]);

    // Switched off again from the table: night motion at the school raises nothing new.
    await row.getByRole('button', { name: 'Tắt' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Đã tắt quy tắc ${RULE}.` })
      .waitFor();
    await motion(SCHOOL, 'hanh-lang', [night(600), night(610)]);
    expect((await alertsOf(SCHOOL)).map((a) => a.camera)).toEqual(['san-truong']);

    const audit = await api<{ items: AuditEntry[] }>('/audit?action=rule.');
    expect(audit.items.map((a) => `${a.actor} ${a.action}`)).toEqual(['admin rule.update', 'admin rule.update']);
    expect(audit.items[1]!.detail).toMatchObject({
      changes: { enabled: { from: false, to: true }, threshold: { from: { count: 3, windowSec: 60 } } },
    });
    expect(pageErrors).toEqual([]);
  });

  it('creates a health rule for one camera, by its name, and deletes it', async () => {
    await page.goto(`${url}/#/admin/rules`);
    // Fresh lists: the cameras the first test's events made known.
    await page.reload();
    await page.getByRole('button', { name: 'Tạo quy tắc mới' }).click();
    const form = page.locator('form.rule-form');
    await form.getByLabel('Loại quy tắc').selectOption('health');
    await form.getByRole('button', { name: 'Tạo' }).click();
    await page.getByTestId('rule-problems').filter({ hasText: 'Nhập tên quy tắc.' }).waitFor();
    await form.getByLabel('Tên', { exact: true }).fill('Lệch giờ sân trường');
    await form.getByLabel('Điều kiện').selectOption('clock_skew');
    await form.getByRole('checkbox', { name: 'Trường Tiểu học Trường Sơn', exact: true }).check();
    await form.getByRole('checkbox', { name: 'san-truong', exact: true }).check();
    await form.getByRole('button', { name: 'Tạo' }).click();
    await page.getByTestId('rule-problems').filter({ hasText: 'Quy tắc lệch giờ cần độ lệch cho phép' }).waitFor();
    await form.getByLabel('Độ lệch cho phép (mili giây)').fill('3000');
    await form.getByRole('button', { name: 'Tạo' }).click();
    await page.getByRole('status').filter({ hasText: 'Đã tạo quy tắc Lệch giờ sân trường.' }).waitFor();
    const rules = await api<{ items: { name: string; sites: string[]; cameras: string[]; boundMs: number }[] }>(
      '/alert-rules',
    );
    expect(rules.items.find((r) => r.name === 'Lệch giờ sân trường')).toMatchObject({
      sites: [SCHOOL],
      cameras: [`${SCHOOL}/san-truong`],
      boundMs: 3000,
    });
    page.once('dialog', (d) => void d.accept());
    await page
      .locator('[data-testid="rules"] tr[data-rule="Lệch giờ sân trường"]')
      .getByRole('button', { name: 'Xoá' })
      .click();
    await page.getByRole('status').filter({ hasText: 'Đã xoá quy tắc Lệch giờ sân trường.' }).waitFor();
    const actions = (await api<{ items: AuditEntry[] }>('/audit?action=rule.')).items.map((a) => a.action);
    expect(actions.slice(0, 2)).toEqual(['rule.delete', 'rule.create']);
    expect(pageErrors).toEqual([]);
  });
});
