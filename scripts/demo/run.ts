import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { type Simulator, startSimulator } from '@camhub/simulator';
import { type CameraView, type EventView, HubApi, shortenOfflineRule } from './api.js';
import { Children, type ManagedChild } from './children.js';
import { ChildExitedError, DemoError, errorMessage } from './errors.js';
import { agentConfigYaml, buildLayout, type DemoSite } from './layout.js';
import { LinkProxy } from './link-proxy.js';
import { freePort, portIsFree } from '../lib/net.js';
import { deleteQueueKeys } from '../lib/queue-keys.js';
import { freePortBlock } from './net.js';
import type { DemoOptions } from './options.js';
import { Scenario } from './scenario.js';
import { RUN_ENV, sweepRun } from './sweep.js';
import { chooseDatabase, chooseMqtt, chooseRedis, type Database, type Mqtt, type Service } from './services.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEMO_ADMIN = { username: 'admin', password: 'camhub-demo-local' };
const SIM_CREDENTIALS = { username: 'admin', password: 'camhub-sim' };
const STATUS_EVERY_MS = 30_000;
/** How long a camera must be offline before the demo's alert opens (the scripted outage lasts 60 s). */
const DEMO_OFFLINE_ALERT_SEC = 30;

type Say = (line: string) => void;

/** Everything the demo started, so that shutdown can stop exactly that, in reverse order. */
interface Running {
  runId: string;
  children: Children;
  mqtt?: Mqtt;
  database?: Database;
  redis?: Service;
  sim?: Simulator;
  links: Map<string, LinkProxy>;
  hub?: ManagedChild;
  agents: ManagedChild[];
  scenario?: Scenario;
  timers: NodeJS.Timeout[];
  topicRoot: string;
  queuePrefix: string;
  hubClientId: string;
}

/**
 * Runs the demo until Ctrl-C/SIGTERM, `--duration`, or a child's unexpected exit; resolves with the exit code once
 * everything it started has stopped.
 */
export async function runDemo(options: DemoOptions, env: NodeJS.ProcessEnv, say: Say): Promise<number> {
  const demoDir = env.CAMHUB_DEMO_DIR ?? join(REPO_ROOT, '.demo');
  const runId = randomBytes(8).toString('hex');
  // Inherited by every process the demo starts, directly or not (the RTSP helper, agents' ffmpeg): the final sweep
  // and the reaper find stragglers by it.
  env[RUN_ENV] = runId;
  const running: Running = {
    runId,
    children: new Children(runId),
    links: new Map(),
    agents: [],
    timers: [],
    topicRoot: env.MQTT_TOPIC_ROOT ?? 'camhub-demo/v1',
    queuePrefix: env.QUEUE_PREFIX ?? 'camhub-demo',
    hubClientId: env.MQTT_CLIENT_ID ?? 'camhub-demo-hub',
  };

  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  let stopping: Promise<void> | null = null;
  const stop = (reason: string, code: number) => {
    if (stopping) return stopping;
    running.children.close();
    say(`\ndemo: stopping (${reason})…`);
    stopping = shutdown(running, say).then(
      () => {
        say('demo: everything stopped');
        finish(code);
      },
      (err: unknown) => {
        say(`demo: shutdown problem: ${errorMessage(err)}`);
        running.children.killAll();
        finish(code || 1);
      },
    );
    return stopping;
  };

  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // One Ctrl-C arrives twice (from the terminal and relayed by the parent process): a repeat within 2 s is the same.
    if (firstSignalAt && Date.now() - firstSignalAt < 2000) return;
    if (firstSignalAt) {
      say(`demo: ${signal} again: killing everything now`);
      running.children.killAll();
      finish(130);
      return;
    }
    firstSignalAt = Date.now();
    void stop(signal, 0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  running.children.onUnexpectedExit((child, exit) => {
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    const error = new ChildExitedError(child.name, `${how}; the end of ${child.logFile}:\n${child.tail()}`);
    void stop(error.message, 1);
  });

  try {
    await start(options, env, demoDir, running, say);
  } catch (err) {
    if (stopping) return finished;
    say(`demo: ${err instanceof DemoError ? err.message : ((err as Error).stack ?? errorMessage(err))}`);
    void stop('start-up failed', err instanceof DemoError && err.code === 'usage' ? 2 : 1);
    return finished;
  }
  if (options.durationSec !== null) {
    running.timers.push(
      setTimeout(() => void stop(`--duration ${options.durationSec} s reached`, 0), options.durationSec * 1000),
    );
  }
  return finished;
}

async function start(options: DemoOptions, env: NodeJS.ProcessEnv, demoDir: string, running: Running, say: Say) {
  const port = options.port === 0 ? await freePort() : options.port;
  if (!(await portIsFree(port))) {
    throw new DemoError(
      'port_in_use',
      `port ${port} is in use (another hub?); choose another: npm run demo -- --port 8090`,
    );
  }
  // A fresh demo each start: last run's agent outboxes, snapshots and logs would only confuse.
  for (const sub of ['agents', 'snapshots', 'clips', 'logs', 'exports'])
    rmSync(join(demoDir, sub), { recursive: true, force: true });
  mkdirSync(join(demoDir, 'logs'), { recursive: true });
  running.children.arm(join(demoDir, 'logs', 'reaper.log'));
  const ctx = { env, embedded: options.embedded, demoDir, children: running.children };

  say(`camhub demo: ${options.cameras} simulated cameras in ${options.sites} site(s), data and logs in ${demoDir}`);
  running.mqtt = await chooseMqtt(ctx);
  say(`  MQTT:       ${running.mqtt.summary}`);
  running.database = await chooseDatabase(ctx);
  say(`  PostgreSQL: ${running.database.summary}`);
  running.redis = await chooseRedis(ctx);
  say(`  Redis:      ${running.redis.summary}`);
  if (running.redis.origin === 'external') await deleteQueueKeys(running.redis.url, running.queuePrefix);

  const sites = buildLayout(options.cameras, options.sites);
  const simPort = await freePortBlock(options.simPort, options.cameras);
  running.sim = await startSimulator({
    cameras: options.cameras,
    basePort: simPort,
    rtsp: { port: 0 },
    discovery: false,
    username: SIM_CREDENTIALS.username,
    password: SIM_CREDENTIALS.password,
  });
  const rtspUnavailable = running.sim.rtspAvailable ? null : (running.sim.rtspUnavailableReason ?? 'unknown reason');
  say(`  cameras:    ONVIF simulator on 127.0.0.1:${simPort}-${simPort + options.cameras - 1}`);
  say(
    rtspUnavailable
      ? `  RTSP:       none — stream health (frozen/black pictures) is left out: ${rtspUnavailable}`
      : `  RTSP:       GStreamer, ${new URL(running.sim.cameras[0]!.rtspUrl!).host} (one shared encoder per picture)`,
  );
  const ffmpeg = spawnSync('ffmpeg', ['-version'], { encoding: 'utf8' });
  say(
    ffmpeg.status === 0
      ? `  ffmpeg:     ${ffmpeg.stdout.split('\n')[0]!.split(' ').slice(0, 3).join(' ')} (snapshots, stream probes)`
      : '  ffmpeg:     none — snapshots fall back to a fixed picture and stream probes are left out',
  );

  const broker = new URL(running.mqtt.url);
  if (broker.protocol === 'mqtt:' || broker.protocol === 'tcp:') {
    for (const site of sites) {
      running.links.set(site.id, await LinkProxy.start(broker.hostname, Number(broker.port || 1883)));
    }
  } else say(`  link cut:   left out (the broker URL ${broker.protocol}// cannot go through the demo's TCP relay)`);

  const tokens = new Map(sites.map((s) => [s.id, randomBytes(16).toString('hex')]));
  const hubUrl = `http://127.0.0.1:${port}`;
  running.hub = startHub(running, env, demoDir, port, tokens);
  await waitForHub(running.hub, hubUrl);
  say(`  hub:        ${hubUrl} (log: ${running.hub.logFile})`);

  for (const site of sites) running.agents.push(startAgent(running, env, demoDir, site, simPort, hubUrl, tokens));
  say(
    `  agents:     ${sites.map((s) => `${s.id} (${s.cameras.length} cameras)`).join(', ')}; logs in ${join(demoDir, 'logs')}`,
  );

  const api = new HubApi(hubUrl, DEMO_ADMIN.username, DEMO_ADMIN.password);
  await api.get('/api/v1/cameras');
  const offlineRule = await shortenOfflineRule(api, DEMO_OFFLINE_ALERT_SEC).catch((err: Error) => {
    say(`  alerts:     could not shorten the camera-offline rule (${err.message}); it keeps its default`);
    return null;
  });
  if (offlineRule) {
    say(`  alerts:     rule "${offlineRule}" shortened to ${DEMO_OFFLINE_ALERT_SEC} s for the demo (5 min by default)`);
  }
  const consoleAnswer = await fetch(`${hubUrl}/`, { signal: AbortSignal.timeout(5000) }).then((r) => r.status);

  if (options.scenario) {
    const sim = running.sim;
    running.scenario = new Scenario({
      sites,
      camera: (i) => sim.cameras[i]!,
      links: running.links,
      rtspUnavailable,
      say,
      curl: (path) => api.curl(path),
    });
  }
  if (!options.headless) printWelcome(say, api, hubUrl, consoleAnswer === 200, sites, running);
  say(
    `demo: ready — hub ${hubUrl}, ${options.cameras} cameras, ${sites.length} sites${options.durationSec ? `, stopping after ${options.durationSec} s` : '; Ctrl-C stops everything'}`,
  );
  running.scenario?.start(options.startAtSec);
  if (!options.headless) {
    const timer = setInterval(() => void printStatus(api, say), STATUS_EVERY_MS);
    running.timers.push(timer);
  }
}

function startHub(
  running: Running,
  env: NodeJS.ProcessEnv,
  demoDir: string,
  port: number,
  tokens: Map<string, string>,
) {
  const hubEnv: NodeJS.ProcessEnv = {
    ...env,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: running.database!.url,
    REDIS_URL: running.redis!.url,
    MQTT_URL: running.mqtt!.url,
    MQTT_PROTOCOL_VERSION: String(running.mqtt!.protocolVersion),
    MQTT_CLIENT_ID: running.hubClientId,
    MQTT_TOPIC_ROOT: running.topicRoot,
    QUEUE_PREFIX: running.queuePrefix,
    SNAPSHOT_DIR: join(demoDir, 'snapshots'),
    CLIP_DIR: join(demoDir, 'clips'),
    EXPORT_DIR: join(demoDir, 'exports'),
    HUB_KEY_FILE: join(demoDir, 'hub-ed25519.pem'),
    AGENT_TOKENS: [...tokens].map(([site, token]) => `${site}=${token}`).join(','),
    CAMHUB_ADMIN_PASSWORD: DEMO_ADMIN.password,
    // Plain http on loopback: a Secure cookie would never be sent back by the browser.
    AUTH_COOKIE_SECURE: 'false',
    // Agents sample every 20 s in the demo, so silence is noticed after 65 s instead of 90 s.
    HEALTH_STALE_SEC: '65',
    HEALTH_SWEEP_SEC: '5',
    LOG_LEVEL: env.LOG_LEVEL ?? 'info',
  };
  if (running.database!.poolMax !== null) hubEnv.DB_POOL_MAX = String(running.database!.poolMax);
  return running.children.start({
    name: 'hub',
    command: process.execPath,
    args: ['--import', 'tsx', join(REPO_ROOT, 'hub/src/cli.ts'), 'serve'],
    env: hubEnv,
    cwd: REPO_ROOT,
    logFile: join(demoDir, 'logs', 'hub.log'),
  });
}

async function waitForHub(hub: ManagedChild, url: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    // The unexpected-exit handler has reported it, with the log; start-up must go no further.
    if (hub.done) throw new DemoError('stopping', 'the hub exited during start-up');
    const status = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > deadline) {
      throw new DemoError('hub_not_ready', `the hub did not become ready on ${url} within 90 s:\n${hub.tail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function startAgent(
  running: Running,
  env: NodeJS.ProcessEnv,
  demoDir: string,
  site: DemoSite,
  simPort: number,
  hubUrl: string,
  tokens: Map<string, string>,
) {
  const link = running.links.get(site.id);
  const configFile = join(demoDir, 'agents', `${site.id}.yaml`);
  mkdirSync(dirname(configFile), { recursive: true });
  writeFileSync(
    configFile,
    agentConfigYaml({
      site,
      mqttUrl: link ? `mqtt://127.0.0.1:${link.port}` : running.mqtt!.url,
      protocolVersion: running.mqtt!.protocolVersion,
      topicRoot: running.topicRoot,
      hubUrl,
      hubToken: tokens.get(site.id)!,
      simHost: '127.0.0.1',
      simPort,
      ...SIM_CREDENTIALS,
      dataDir: join(demoDir, 'agents', site.id),
    }),
  );
  const agentEnv: NodeJS.ProcessEnv = { ...env };
  // The generated file is the whole truth; stray overrides from the person's shell would point agents elsewhere.
  for (const key of Object.keys(agentEnv))
    if (key.startsWith('CAMHUB_MQTT_') || key === 'CAMHUB_HUB_TOKEN') delete agentEnv[key];
  return running.children.start({
    name: `agent ${site.id}`,
    command: process.execPath,
    args: ['--import', 'tsx', join(REPO_ROOT, 'edge-agent/src/main.ts'), '--config', configFile],
    env: agentEnv,
    cwd: REPO_ROOT,
    logFile: join(demoDir, 'logs', `agent-${site.id}.log`),
  });
}

function printWelcome(say: Say, api: HubApi, hubUrl: string, hasConsole: boolean, sites: DemoSite[], running: Running) {
  const lines = [
    '',
    hasConsole
      ? `Console:  ${hubUrl}/   login ${DEMO_ADMIN.username} / ${DEMO_ADMIN.password}`
      : `Console:  not in this build yet (${hubUrl}/ answers 404); the API is the way in`,
    `API docs: ${hubUrl}/docs`,
    ...(api.authRequired
      ? [`API login (admin / ${DEMO_ADMIN.password}), then use $TOKEN:`, `  ${api.loginCurl()}`]
      : []),
    'Try:',
    `  ${api.curl('/api/v1/cameras')}              every camera, its status and problems`,
    `  ${api.curl('/api/v1/events?limit=20')}      the latest events, newest first`,
    `  ${api.curl(`/api/v1/cameras/${sites[0]!.id}/cam-01/health`)}   one camera's health samples`,
    `  mosquitto_sub -h ${new URL(running.mqtt!.url).hostname} -p ${new URL(running.mqtt!.url).port || 1883} -t '${running.topicRoot}/#' -v   the raw MQTT traffic`,
    ...(running.scenario
      ? [
          `The script (every ${240 / 60} minutes): tamper on ${running.scenario.roles.tamper.site}/${running.scenario.roles.tamper.id},` +
            ` frozen stream on ${running.scenario.roles.freeze.site}/${running.scenario.roles.freeze.id},` +
            ` ${running.scenario.roles.offline.site}/${running.scenario.roles.offline.id} offline for a minute,` +
            ` site ${running.scenario.roles.linkSite.id} cut off for a minute, intrusion at` +
            ` ${running.scenario.roles.intrusion.site}/${running.scenario.roles.intrusion.id} at night.`,
        ]
      : [
          'No scenario (--no-scenario): make things happen with the simulator, e.g.',
          `  curl -X POST -d '{"active":true}' http://127.0.0.1:${running.sim!.cameras[0]!.port}/sim/motion`,
        ]),
    `A status line every ${STATUS_EVERY_MS / 1000} s. Ctrl-C stops everything.`,
    '',
  ];
  for (const line of lines) say(line);
}

async function printStatus(api: HubApi, say: Say): Promise<void> {
  try {
    const [{ items: cameras }, { items: events }] = await Promise.all([
      api.get<{ items: CameraView[] }>('/api/v1/cameras'),
      api.get<{ items: EventView[] }>(
        `/api/v1/events?limit=1000&from=${new Date(Date.now() - STATUS_EVERY_MS).toISOString()}`,
      ),
    ]);
    const byStatus = new Map<string, number>();
    for (const c of cameras) byStatus.set(c.status, (byStatus.get(c.status) ?? 0) + 1);
    const troubled = cameras
      .filter((c) => c.status !== 'online')
      .map(
        (c) =>
          `${c.site}/${c.camera} ${c.status}${c.problems.length ? ` (${c.problems.map((p) => p.code).join(', ')})` : ''}`,
      );
    const kinds = new Map<string, number>();
    for (const e of events) kinds.set(e.type, (kinds.get(e.type) ?? 0) + 1);
    say(
      `[status] cameras: ${[...byStatus].map(([s, n]) => `${n} ${s}`).join(', ') || 'none yet'}` +
        `${troubled.length ? ` — ${troubled.join('; ')}` : ''} · events in the last ${STATUS_EVERY_MS / 1000} s: ` +
        `${events.length}${kinds.size ? ` (${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')})` : ''}`,
    );
  } catch (err) {
    say(`[status] the hub did not answer: ${errorMessage(err)}`);
  }
}

/** On a broker that outlives the demo: end the hub's persistent session and clear the retained statuses we left. */
export async function cleanBroker(url: string, protocolVersion: 4 | 5, hubClientId: string, topicRoot: string) {
  const session = await mqtt.connectAsync(url, {
    clientId: hubClientId,
    protocolVersion,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    properties: protocolVersion === 5 ? { sessionExpiryInterval: 0 } : undefined,
  });
  await session.endAsync();
  const sweeper = await mqtt.connectAsync(url, {
    protocolVersion,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
  const retained = new Set<string>();
  sweeper.on('message', (topic, payload, packet) => {
    if (packet.retain && payload.length > 0) retained.add(topic);
  });
  await sweeper.subscribeAsync(`${topicRoot}/#`, { qos: 0 });
  await new Promise((resolve) => setTimeout(resolve, 500));
  for (const topic of retained) await sweeper.publishAsync(topic, '', { qos: 1, retain: true });
  await sweeper.endAsync();
}

async function shutdown(running: Running, say: Say): Promise<void> {
  for (const timer of running.timers) clearTimeout(timer);
  running.scenario?.stop();
  const { children } = running;
  // Agents first: they say goodbye over MQTT and flush their outboxes while the hub still listens.
  await Promise.all(running.agents.map((agent) => children.stop(agent, 10_000)));
  if (running.hub) await children.stop(running.hub, 20_000);
  await Promise.all([...running.links.values()].map((link) => link.close()));
  await running.sim?.close();
  const cleanups: [string, () => Promise<void>][] = [];
  if (running.mqtt?.origin === 'external') {
    const { url, protocolVersion } = running.mqtt;
    cleanups.push([
      'MQTT session and retained topics',
      () => cleanBroker(url, protocolVersion, running.hubClientId, running.topicRoot),
    ]);
  }
  if (running.redis?.origin === 'external') {
    const url = running.redis.url;
    cleanups.push(['Redis queue keys', () => deleteQueueKeys(url, running.queuePrefix)]);
  }
  for (const [what, cleanup] of cleanups) {
    await cleanup().catch((err: unknown) => say(`demo: could not clean ${what}: ${errorMessage(err)}`));
  }
  for (const service of [running.redis, running.database, running.mqtt]) {
    await service?.stop().catch((err: unknown) => say(`demo: stopping a service failed: ${errorMessage(err)}`));
  }
  // Anything not stopped above (e.g. start-up failed half-way) goes now.
  for (const child of children.all) if (!child.done) await children.stop(child, 5000);
  const exclude = new Set([process.pid, children.reaperPid ?? -1]);
  const swept = sweepRun(running.runId, exclude);
  if (swept > 0) say(`demo: ${swept} process(es) outlived their parent (e.g. an agent's ffmpeg); killed them`);
  await children.disarm();
}
