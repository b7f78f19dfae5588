import { beforeAll, describe, expect, it } from 'vitest';
import { simCameras } from '../support/agent-config.js';
import { createUser, type TestUser } from '../support/auth.js';
import { useConsoleSite } from '../support/console-session.js';
import { uniqueToken } from '../support/ids.js';
import { freePortBlock } from '../support/processes.js';
import { waitFor } from '../support/wait.js';
import { assertPlaying } from './video-checks.js';

// Live video in the console: headless Chromium plays, through Media Source Extensions, what the real agent's ffmpeg
// copies from the simulator's real RTSP stream, relayed by the hub (in this process, listening).
const BASE_PORT = await freePortBlock(32, 28000);
const SITE = `vd-${uniqueToken().slice(0, 6)}`;
const CAMERAS = ['cong-truoc', 'san-sau'];

const { stand, site } = useConsoleSite({
  site: SITE,
  hub: {
    VIDEO_IDLE_STOP_SEC: 3,
    VIDEO_SESSION_CHECK_SEC: 2,
  },
  cameras: CAMERAS.length,
  basePort: BASE_PORT,
  agent: (sim) => ({
    health: { intervalSec: 2 },
    cameras: simCameras(sim.cameras, (i) => ({ id: CAMERAS[i]!, name: `Camera ${CAMERAS[i]}` })),
  }),
});
let url: string;
const users: Record<string, TestUser> = {};

const openAs = (user: TestUser) =>
  stand.openAs(user.username, user.password, { viewport: { width: 1280, height: 800 } });

const upstreams = (camera: string, profile: 'main' | 'sub') =>
  site.agent.live.streams().filter((s) => s.camera === camera && s.profile === profile).length;

async function auditOf(username: string) {
  const admin = await createUser(stand.hub, ['admin']);
  const res = await fetch(`${url}/api/v1/audit?action=video.live.&actor=${username}`, { headers: admin.headers });
  return ((await res.json()) as { items: { action: string; target: string; detail: Record<string, unknown> }[] }).items;
}

beforeAll(async () => {
  ({ url } = stand);
  const { hub } = stand;
  const { agent } = site;
  for (const role of ['operator', 'technician'] as const) users[role] = await createUser(hub, [role]);
  users.second = await createUser(hub, ['operator']);
  await waitFor(
    async () => {
      for (const c of CAMERAS) if (!(await hub.container.repositories.cameras.exists(SITE, c))) return false;
      return agent.cameras.every((c) => c.streamUrl() !== null);
    },
    { timeoutMs: 30_000, what: 'cameras known to the hub and connected at the agent' },
  );
}, 120_000);

describe('live video in the console', () => {
  it('plays on the wall tiles and on the camera page', async () => {
    const { context, page, errors } = await openAs(users.operator!);
    try {
      const tile = `ul.wall > li[data-camera="${CAMERAS[0]}"]`;
      await assertPlaying(page, `${tile} video.live-video`);
      await page.locator(`${tile} .live[data-live-state="live"]`).waitFor({ timeout: 10_000 });
      expect(await page.locator(`${tile} .live-state`).textContent()).toBe('Trực tiếp');
      expect(upstreams(CAMERAS[0]!, 'sub')).toBe(1);

      await page.locator(`${tile} a`).click();
      await page.getByRole('heading', { name: `Camera Camera ${CAMERAS[0]}` }).waitFor();
      await assertPlaying(page, '.camera-view .big-live video');
      expect(upstreams(CAMERAS[0]!, 'main')).toBe(1);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
    // Nobody watches: the agent stops both upstreams within 10 s.
    await waitFor(() => site.agent.live.streams().length === 0, {
      timeoutMs: 10_000,
      what: 'no upstream at the agent',
    });
  }, 90_000);

  it('serves two browsers from one upstream, and ends it within 10 s after both closed', async () => {
    const a = await openAs(users.operator!);
    const b = await openAs(users.second!);
    try {
      const path = `#/camera/${SITE}/${CAMERAS[1]}`;
      for (const p of [a.page, b.page]) await p.goto(`${url}/${path}`);
      await assertPlaying(a.page, '.camera-view .big-live video');
      await assertPlaying(b.page, '.camera-view .big-live video');
      expect(upstreams(CAMERAS[1]!, 'main')).toBe(1);
    } finally {
      await a.context.close();
      await b.context.close();
    }
    const closedAt = Date.now();
    await waitFor(() => site.agent.live.streams().length === 0, {
      timeoutMs: 10_000,
      what: 'no upstream at the agent',
    });
    console.log(`last viewer gone → upstream ended in ${Date.now() - closedAt} ms`);
  }, 90_000);

  it('refuses technicians', async () => {
    const { context, page } = await openAs(users.technician!);
    try {
      const answers = await page.evaluate(
        async ([settings, live]) => [
          await (await fetch(settings!, { credentials: 'same-origin' })).json(),
          (await fetch(live!, { credentials: 'same-origin' })).status,
        ],
        ['/api/v1/video/settings', `/api/v1/video/live/${SITE}/${CAMERAS[0]}`],
      );
      expect(answers).toEqual([{ live: false, wallMaxLive: 9 }, 403]);
      expect(await page.locator('.live').count()).toBe(0);
      expect(site.agent.live.streams()).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('ends the stream when its session logs out, and audits the live session', async () => {
    const { context, page } = await openAs(users.second!);
    try {
      await page.goto(`${url}/#/camera/${SITE}/${CAMERAS[0]}`);
      await assertPlaying(page, '.camera-view .big-live video');
      // Logged out from another tab of the same browser: the playing page never navigates away by itself.
      const other = await context.newPage();
      await other.goto(url);
      const out = await other.evaluate(
        async () => (await fetch('/api/v1/auth/logout', { method: 'POST', credentials: 'same-origin' })).status,
      );
      expect(out).toBeLessThan(300);
      await waitFor(() => site.agent.live.streams().length === 0, { timeoutMs: 15_000, what: 'the upstream to end' });
    } finally {
      await context.close();
    }
    const entries = await auditOf(users.second!.username);
    const closes = entries.filter((e) => e.action === 'video.live.close');
    expect(closes.map((e) => e.detail.reason)).toContain('session_ended');
    expect(entries.some((e) => e.action === 'video.live.open' && e.target === `${SITE}/${CAMERAS[1]}`)).toBe(true);
    for (const e of closes)
      expect(e.detail).toMatchObject({ openedAt: expect.any(String), closedAt: expect.any(String) });
  }, 60_000);
});
