import { rmSync } from 'node:fs';
import { createTopics, type Topics } from '@camhub/shared';
import { startSimulator, type Simulator } from '@camhub/simulator';
import type { FastifyInstance } from 'fastify';
import type { MqttClient } from 'mqtt';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, expect } from 'vitest';
import { Agent } from '../../edge-agent/src/agent.js';
import { parseConfig } from '../../edge-agent/src/config.js';
import type { HubConfig } from '../../hub/src/config.js';
import { AGENT_LOG_LEVEL, testAgentConfig, type TestAgentConfigInput } from './agent-config.js';
import { tempDir } from './agent-harness.js';
import { buildHub, createHubEnv, type TestHubEnv } from './hub.js';
import { connectPublisher } from './mqtt.js';
import { type HubProcess, spawnHub } from './processes.js';
import { type SmtpTestServer, startSmtpServer } from './smtp.js';
import { startTelegramStandIn, type TelegramStandIn } from './telegram-stand-in.js';
import { startZaloStandIn, type ZaloStandIn } from './zalo-stand-in.js';
import { waitFor } from './wait.js';

export interface HubEnvFixture {
  env: TestHubEnv;
}

export interface HubFixture extends HubEnvFixture {
  env: TestHubEnv;
  hub: FastifyInstance;
}

type BuildOptions = NonNullable<Parameters<typeof buildHub>[1]>;
/** A value, or a function read when the fixture's `beforeAll` runs (after the file's earlier hooks: stand-ins' ports). */
export type Lazy<T> = T | (() => T);
export const read = <T>(v: Lazy<T>): T => (typeof v === 'function' ? (v as () => T)() : v);
/** A fresh database migrated and a hub built: seconds on a quiet machine, more than a minute on a loaded 2-core one. */
const BUILD_TIMEOUT_MS = 120_000;

/**
 * A test file's hub in one call: its own environment (database, queue prefix, topic root) and the app built on it
 * before the file's tests, both closed and removed after them. Read `env` and `hub` inside hooks and tests (they
 * are set once `beforeAll` has run). Overrides that depend on something an earlier `beforeAll` starts (a stand-in's
 * port) are given as a function. Hooks registered after this one run after the hub is built and their `afterAll`
 * before it is closed.
 */
export function useTestHub(overrides: Lazy<Partial<HubConfig>> = {}, opts: Lazy<BuildOptions> = {}): HubFixture {
  const fixture = {} as HubFixture;
  beforeAll(async () => {
    fixture.env = await createHubEnv(read(overrides));
    fixture.hub = await buildHub(fixture.env.config, read(opts));
  }, BUILD_TIMEOUT_MS);
  afterAll(async () => {
    await fixture.hub?.close();
    await fixture.env?.cleanup();
  });
  return fixture;
}

/**
 * Only the environment (database, queue prefix, topic root), for files that run the hub as a child process
 * (crash tests, the assembled image): created before the file's tests, removed after them.
 */
export function useTestHubEnv(overrides: Lazy<Partial<HubConfig>> = {}): HubEnvFixture {
  const fixture = {} as HubEnvFixture;
  beforeAll(async () => {
    fixture.env = await createHubEnv(read(overrides));
  }, BUILD_TIMEOUT_MS);
  afterAll(async () => {
    await fixture.env?.cleanup();
  });
  return fixture;
}

export interface HubProcessesFixture extends HubEnvFixture {
  /** A pool on the hub's database, for the test's own reads. */
  db: pg.Pool;
  /** The hub processes started so far, in order. */
  hubs: HubProcess[];
  /** Starts one more hub process on the environment and waits until it is ready. */
  spawn(): Promise<HubProcess>;
}

/**
 * An environment for hubs as separate processes (the crash tests kill them): the hub's database and a pool on it; every
 * process started with `spawn` is SIGKILLed after the file's tests, before the environment is cleaned up.
 */
export function useHubProcesses(overrides: Lazy<Partial<HubConfig>> = {}): HubProcessesFixture {
  const fixture = useTestHubEnv(overrides) as HubProcessesFixture;
  fixture.hubs = [];
  fixture.spawn = async () => {
    const hub = await spawnHub(fixture.env.config);
    fixture.hubs.push(hub);
    return hub;
  };
  beforeAll(() => {
    fixture.db = new pg.Pool({ connectionString: fixture.env.db.url });
  });
  afterAll(async () => {
    await Promise.all(fixture.hubs.map((h) => h.stop('SIGKILL')));
    await fixture.db?.end();
  });
  return fixture;
}

export interface SimSiteFixture {
  sim: Simulator;
  /** The agent, in this process. */
  agent: Agent;
  dataDir: string;
}

export interface SimSiteOptions {
  /** How many simulated cameras, on consecutive ports from `basePort` (freePortBlock). */
  cameras: number;
  basePort: number;
  /** Real RTSP streams (GStreamer; the file fails when they are not available); default true. */
  rtsp?: boolean;
  /** The agent's configuration beyond testAgentConfig's defaults and its data directory, read once `sim` is up. */
  agent: (
    sim: Simulator,
  ) => Pick<TestAgentConfigInput, 'site' | 'mqtt' | 'cameras' | 'onvif'> & Record<string, unknown>;
}

/**
 * A site beside the file's hub: the ONVIF simulator (WS-Discovery off) and the real edge agent for its cameras, in
 * this process, started before the file's tests (after the hooks registered before this call, e.g. useTestHub's) and
 * stopped, with its data directory removed, after them. Its log: AGENT_LOG_LEVEL.
 */
export function useSimSite(opts: SimSiteOptions): SimSiteFixture {
  const fixture = {} as SimSiteFixture;
  beforeAll(async () => {
    const rtsp = opts.rtsp ?? true;
    fixture.sim = await startSimulator({
      cameras: opts.cameras,
      basePort: opts.basePort,
      rtsp: rtsp ? { port: 0 } : false,
      discovery: false,
    });
    if (rtsp) expect(fixture.sim.rtspAvailable, fixture.sim.rtspUnavailableReason ?? '').toBe(true);
    fixture.dataDir = tempDir('camhub-site-');
    fixture.agent = new Agent(
      parseConfig(testAgentConfig({ ...opts.agent(fixture.sim), dataDir: fixture.dataDir })),
      pino({ level: AGENT_LOG_LEVEL }),
    );
    fixture.agent.start();
  }, BUILD_TIMEOUT_MS);
  afterAll(async () => {
    await fixture.agent?.stop();
    await fixture.sim?.close();
    if (fixture.dataDir) rmSync(fixture.dataDir, { recursive: true, force: true });
  });
  return fixture;
}

export interface PublisherFixture {
  /** A plain MQTT client on the test broker, publishing as an agent would (publishJson). */
  pub: MqttClient;
  /** The contract's topics under the hub's topic root. */
  topics: Topics;
}

/**
 * A publisher for the file's hub: connected once the hub's own MQTT session is up (so nothing published is missed),
 * ended after the file's tests. Register it after the hub fixture it serves.
 */
export function usePublisher(hub: HubFixture): PublisherFixture {
  const fixture = {} as PublisherFixture;
  beforeAll(async () => {
    fixture.topics = createTopics(hub.env.config.MQTT_TOPIC_ROOT);
    await waitFor(() => hub.hub.ingest.mqtt?.connected, { what: 'hub mqtt connection' });
    fixture.pub = await connectPublisher();
  });
  afterAll(async () => {
    await fixture.pub?.endAsync();
  });
  return fixture;
}

export interface NotifyServicesFixture {
  telegram: TelegramStandIn;
  zalo: ZaloStandIn;
  smtp: SmtpTestServer;
  /** The hub settings that send to them (Telegram's and Zalo's API addresses, the SMTP server's CA). */
  hubConfig(): Partial<HubConfig>;
}

/**
 * The notification services on loopback: Telegram and Zalo stand-ins and a real SMTP server, started before the
 * file's tests and closed after them. Register it before the hub fixture and give that `() => services.hubConfig()`.
 */
export function useNotifyServices(opts: {
  telegram: Parameters<typeof startTelegramStandIn>[0];
  zalo: Parameters<typeof startZaloStandIn>[0];
  smtp: Parameters<typeof startSmtpServer>[0];
}): NotifyServicesFixture {
  const fixture = {
    hubConfig: () => ({
      TELEGRAM_API_URL: fixture.telegram.url,
      ZALO_API_URL: fixture.zalo.url,
      ZALO_OAUTH_URL: fixture.zalo.url,
      ZALO_ZNS_URL: fixture.zalo.url,
      SMTP_CA_FILE: fixture.smtp.caFile,
    }),
  } as NotifyServicesFixture;
  beforeAll(async () => {
    fixture.telegram = await startTelegramStandIn(opts.telegram);
    fixture.zalo = await startZaloStandIn(opts.zalo);
    fixture.smtp = await startSmtpServer(opts.smtp);
  });
  afterAll(async () => {
    await fixture.telegram?.close();
    await fixture.zalo?.close();
    await fixture.smtp?.close();
  });
  return fixture;
}
