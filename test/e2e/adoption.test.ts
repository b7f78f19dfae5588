import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startSimulator, type Simulator } from '@camhub/simulator';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, tempDir } from '../support/agent-harness.js';
import { simCameras, writeAgentConfig } from '../support/agent-config.js';
import { screenshot } from '../support/browser.js';
import { useConsoleHub } from '../support/console-session.js';
import { uniqueToken } from '../support/ids.js';
import { freePortBlock } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

// Onboarding a unit from the console, every part real: the hub (in this process, listening), the edge agent as the
// process operators run, the ONVIF simulator answering WS-Discovery, Mosquitto, PostgreSQL, Redis and Chromium. The
// agent's file names one camera; the second is adopted in the browser. No file is edited, no process restarted.
const BASE_PORT = await freePortBlock(16, 31000);
const SITE = `unit-${uniqueToken().slice(0, 6)}`;

const stand = useConsoleHub();
let url: string;
let sim: Simulator;
let agent: AgentProcess | null = null;
let dataDir: string;
let configFile: string;
let page: Page;
let adminToken: string;

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${url}/api/v1${path}`, { headers: { authorization: `Bearer ${adminToken}` } });
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

beforeAll(async () => {
  ({ url, adminToken } = stand);
  sim = await startSimulator({ cameras: 2, basePort: BASE_PORT, rtsp: false });
  dataDir = tempDir('adoption-e2e-');
  configFile = writeAgentConfig(join(dataDir, 'agent.json'), {
    site: SITE,
    mqtt: { url: stand.env.config.MQTT_URL, topicRoot: stand.env.config.MQTT_TOPIC_ROOT },
    dataDir: join(dataDir, 'agent'),
    discovery: true,
    motionTimeoutSec: 3,
    health: { intervalSec: 2, stream: false },
    logLevel: 'info',
    cameras: simCameras([sim.cameras[0]!], () => ({ id: 'cong-chinh', name: 'Cổng chính' })),
  });
  ({ page } = await stand.openAs('admin', stand.adminPassword));
}, 120_000);

afterAll(async () => {
  await agent?.kill('SIGTERM');
  await sim?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('onboarding a unit from the console', () => {
  it('an admin registers the site, adopts a discovered camera, and its motion reaches the hub', async () => {
    await page.goto(`${url}/#/admin/sites`);
    await page.getByLabel('Mã khu vực', { exact: false }).fill(SITE);
    await page.getByLabel('Tên đơn vị').fill('Trường Tiểu học Trường Sơn');
    await page.getByRole('button', { name: 'Đăng ký', exact: true }).last().click();
    await page.getByRole('status').filter({ hasText: 'Trường Tiểu học Trường Sơn' }).waitFor();

    agent = new AgentProcess(configFile);
    const target = sim.cameras[1]!;
    await page.goto(`${url}/#/admin/cameras`);
    const row = page.locator(`[data-testid="discovered"] tr[data-address$=":${target.port}"]`);
    // The page shows what the agent reported when it loaded: come back until its first discovery is in.
    await waitFor(
      async () => {
        await page.locator('[data-testid="cameras-site"]').selectOption(SITE);
        if (await row.count()) return true;
        await page.reload();
        await page.locator('[data-testid="cameras-site"]').waitFor();
        return false;
      },
      { timeoutMs: 40_000, intervalMs: 1000, what: 'the discovered camera in the console' },
    );
    await screenshot(page, 'adoption-discovered', { fullPage: true });
    await row.getByRole('button', { name: 'Nhận camera' }).click();
    await page.getByLabel('Mã camera').fill('san-truong');
    await page.getByLabel('Tên camera', { exact: true }).fill('Sân trường');
    await page.getByLabel('Vị trí', { exact: true }).fill('Góc sân phía bắc');
    await page.getByLabel('Tên đăng nhập camera').fill(target.username);
    await page.getByLabel('Mật khẩu camera').fill(target.password);
    await page.locator('form').getByRole('button', { name: 'Nhận camera' }).click();
    await page.getByRole('status').filter({ hasText: 'Đã nhận Sân trường' }).waitFor();

    await waitFor(() => target.stats().activeSubscriptions >= 1, {
      timeoutMs: 30_000,
      what: 'the adopted camera subscribed by the running agent',
    });
    await page.reload();
    await page.locator('[data-testid="cameras-site"]').selectOption(SITE);
    await page.locator('tr[data-camera="san-truong"]').filter({ hasText: 'Đang chạy' }).waitFor({ timeout: 20_000 });
    await screenshot(page, 'adoption', { fullPage: true });

    target.setMotion(true);
    await waitFor(
      async () =>
        (await api<{ items: unknown[] }>(`/events?site=${SITE}&camera=san-truong&type=motion`)).items.length > 0,
      { timeoutMs: 30_000, what: "the adopted camera's motion event at the hub" },
    );
    target.setMotion(false);
    expect(agent.proc.exitCode).toBeNull();
  });

  it('the agent killed and started again keeps the adopted camera', async () => {
    await agent!.kill('SIGKILL');
    const target = sim.cameras[1]!;
    agent = new AgentProcess(configFile);
    await agent.waitForLog((l) => l.msg === 'hub configuration loaded from disk', 20_000);
    await waitFor(
      async () => {
        const before = (await api<{ items: unknown[] }>(`/events?site=${SITE}&camera=san-truong&type=motion`)).items
          .length;
        target.setMotion(true);
        await new Promise((r) => setTimeout(r, 1500));
        target.setMotion(false);
        const after = (await api<{ items: unknown[] }>(`/events?site=${SITE}&camera=san-truong&type=motion`)).items
          .length;
        return after > before;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'motion from the adopted camera after the restart' },
    );
  });
});
