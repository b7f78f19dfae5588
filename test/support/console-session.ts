import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { TestAgentConfigInput } from './agent-config.js';
import type { HubConfig } from '../../hub/src/config.js';
import { login } from './auth.js';
import { ensureConsoleBuilt, launchChromium } from './browser.js';
import { hubUrl } from './hub.js';
import {
  type HubFixture,
  type Lazy,
  read,
  type SimSiteFixture,
  type SimSiteOptions,
  useSimSite,
  useTestHub,
} from './hub-fixture.js';
import { uniqueToken } from './ids.js';

export interface ConsoleSessionOptions {
  /** 1600×1000 unless given. */
  viewport?: { width: number; height: number };
  acceptDownloads?: boolean;
  /** Also wait until the console's live feed is connected (`[data-connection="live"]`). */
  live?: boolean;
}

export interface ConsoleSession {
  context: BrowserContext;
  page: Page;
  /** The page's uncaught errors, for tests to assert there were none. */
  errors: string[];
}

/**
 * A person at the console: a fresh browser context (own cookies and storage) in Vietnamese, signed in through the
 * login form as a user would.
 */
export async function openConsoleAs(
  browser: Browser,
  url: string,
  username: string,
  password: string,
  { viewport = { width: 1600, height: 1000 }, acceptDownloads, live }: ConsoleSessionOptions = {},
): Promise<ConsoleSession> {
  const context = await browser.newContext({
    viewport,
    locale: 'vi-VN',
    ...(acceptDownloads !== undefined ? { acceptDownloads } : {}),
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(url);
  await page.getByLabel('Tên đăng nhập').fill(username);
  await page.getByLabel('Mật khẩu').fill(password);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.locator('header.top nav').waitFor();
  if (live) await page.locator('[data-connection="live"]').waitFor({ timeout: 15_000 });
  return { context, page, errors };
}

export interface ConsoleFixture extends HubFixture {
  /** The listening hub's address (it serves the console). */
  url: string;
  browser: Browser;
  /** The bootstrap admin's password (unique to the file) and an API token of theirs. */
  adminPassword: string;
  adminToken: string;
  /** `openConsoleAs` on this fixture's browser and hub. */
  openAs(username: string, password: string, opts?: ConsoleSessionOptions): Promise<ConsoleSession>;
}

/**
 * A console e2e file's stand in one call: the console built (when its sources are newer), a hub of the file's own
 * (useTestHub, listening, with a unique admin password), the admin's API token and a headless Chromium, all before
 * the file's tests and closed after them. Overrides as in useTestHub (a function when they depend on an earlier
 * `beforeAll`); hooks registered after this one run once it is all up.
 */
export function useConsoleHub(overrides: Lazy<Partial<HubConfig>> = {}): ConsoleFixture {
  const adminPassword = `admin-${uniqueToken()}`;
  beforeAll(() => ensureConsoleBuilt());
  const fixture = useTestHub(() => ({ CAMHUB_ADMIN_PASSWORD: adminPassword, ...read(overrides) }), {
    listen: true,
  }) as ConsoleFixture;
  fixture.adminPassword = adminPassword;
  fixture.openAs = (username, password, opts) => openConsoleAs(fixture.browser, fixture.url, username, password, opts);
  beforeAll(async () => {
    fixture.url = hubUrl(fixture.hub);
    fixture.adminToken = await login(fixture.hub, 'admin', adminPassword);
    fixture.browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await fixture.browser?.close();
  });
  return fixture;
}

export interface ConsoleSiteOptions extends Omit<SimSiteOptions, 'agent'> {
  /** The site's id: its agent token is admitted for it by the hub (AGENT_TOKENS). */
  site: string;
  /** The hub's settings beyond the console stand's. */
  hub?: Partial<HubConfig>;
  /** The agent's own settings (cameras, health, timeouts); site, broker, topic root and hub are wired here. */
  agent: (
    sim: Parameters<SimSiteOptions['agent']>[0],
  ) => Pick<TestAgentConfigInput, 'cameras' | 'onvif'> & Record<string, unknown>;
}

/**
 * The console's hub with one simulated site wired to it, as an installer would: a site token the hub admits for the
 * site, and the site's agent publishing to the hub's broker under its topic root and uploading to its HTTP address.
 */
export function useConsoleSite(opts: ConsoleSiteOptions): { stand: ConsoleFixture; site: SimSiteFixture } {
  const agentToken = `agent-${uniqueToken()}`;
  const stand = useConsoleHub({ AGENT_TOKENS: `${opts.site}=${agentToken}`, ...opts.hub });
  const site = useSimSite({
    cameras: opts.cameras,
    basePort: opts.basePort,
    rtsp: opts.rtsp,
    agent: (sim) => ({
      site: opts.site,
      mqtt: { url: stand.env.config.MQTT_URL, topicRoot: stand.env.config.MQTT_TOPIC_ROOT },
      hub: { url: stand.url, token: agentToken },
      ...opts.agent(sim),
    }),
  });
  return { stand, site };
}
