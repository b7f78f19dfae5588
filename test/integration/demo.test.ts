import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CameraView, type EventView, HubApi } from '../../scripts/demo/api.js';
import { cleanBroker, DEMO_ADMIN } from '../../scripts/demo/run.js';
import { deleteQueueKeys } from '../../scripts/lib/queue-keys.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { type DemoRun, killGroup, processesWithMarker, startDemo } from '../support/demo.js';
import { uniqueQueuePrefix, uniqueToken, uniqueTopicRoot } from '../support/ids.js';
import { waitFor } from '../support/wait.js';

/** Waits until the API shows every camera, events, and health samples. */
async function expectAlive(run: DemoRun, cameras: number) {
  const api = new HubApi(run.url, DEMO_ADMIN.username, DEMO_ADMIN.password);
  const started = Date.now();
  const seen = await waitFor(
    async () => {
      const [{ items: cams }, { items: events }] = await Promise.all([
        api.get<{ items: CameraView[] }>('/api/v1/cameras'),
        api.get<{ items: EventView[] }>('/api/v1/events?limit=100'),
      ]);
      const withHealth = cams.filter((c) => c.health !== null);
      return cams.length === cameras && events.length > 0 && withHealth.length > 0 ? { cams, events } : null;
    },
    { timeoutMs: 60_000, intervalMs: 1000, what: 'cameras, events and health through the API' },
  );
  expect(new Set(seen.cams.map((c) => c.site)).size).toBeGreaterThan(1);
  expect(seen.events.some((e) => e.type === 'motion')).toBe(true);
  return Date.now() - started;
}

/** Ctrl-C in a terminal: SIGINT to the whole foreground process group (npm, tsx and the demo itself). */
async function interruptAndCheckNothingLeft(run: DemoRun) {
  const during = await processesWithMarker(run.marker);
  // hub, one agent per site, the demo's node and its npm/tsx parents at the least: the scan sees what the demo started.
  expect(during.some((p) => p.cmd.includes('hub/src/cli.ts'))).toBe(true);
  expect(during.filter((p) => p.cmd.includes('edge-agent/src/main.ts')).length).toBeGreaterThanOrEqual(2);
  process.kill(-run.proc.pid!, 'SIGINT');
  const stoppedAt = Date.now();
  const exit = await Promise.race([run.exited, new Promise((r) => setTimeout(() => r('timeout'), 45_000))]);
  // As in a terminal: npm itself ends by the SIGINT (or exits 0 when it outlives the demo).
  expect(
    [
      { code: 0, signal: null },
      { code: null, signal: 'SIGINT' },
    ],
    run.output(),
  ).toContainEqual(exit);
  expect(run.output()).toContain('demo: everything stopped');
  const left = await processesWithMarker(run.marker);
  expect(left, `left behind:\n${left.map((p) => `${p.pid} ${p.cmd}`).join('\n')}`).toEqual([]);
  return { processes: during.length, stopMs: Date.now() - stoppedAt };
}

describe('npm run demo', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function demoDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'camhub-demo-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  it('uses the running services, shows cameras, events and health within a minute, and stops on Ctrl-C leaving nothing', async () => {
    const db: TestDatabase = await createTestDatabase();
    cleanups.push(() => db.drop());
    const run = await startDemo(
      ['--cameras', '4', '--sites', '2', '--sim-port', String(20_000 + (process.pid % 20_000))],
      {
        DATABASE_URL: db.url,
        MQTT_TOPIC_ROOT: uniqueTopicRoot(),
        QUEUE_PREFIX: uniqueQueuePrefix(),
        MQTT_CLIENT_ID: `camhub-demo-test-${uniqueToken()}`,
        CAMHUB_DEMO_DIR: await demoDir(),
      },
    );
    cleanups.push(async () => {
      if (run.proc.exitCode === null && run.proc.signalCode === null) killGroup(run.proc.pid!);
    });
    expect(run.output()).toMatch(/MQTT: +broker at 127\.0\.0\.1:1883 \(found running\)/);
    expect(run.output()).toMatch(/PostgreSQL: .*\(DATABASE_URL\)/);
    const aliveMs = await expectAlive(run, 4);
    const { processes, stopMs } = await interruptAndCheckNothingLeft(run);
    console.log(
      `demo (running services): alive ${aliveMs} ms after ready, ${processes} processes, stopped in ${stopMs} ms`,
    );
  }, 200_000);

  it('runs on its embedded broker and PostgreSQL (--embedded: Aedes, PGlite) just the same', async () => {
    const dir = await demoDir();
    const run = await startDemo(
      ['--embedded', '--cameras', '3', '--sites', '2', '--sim-port', String(40_000 + (process.pid % 20_000))],
      {
        CAMHUB_DEMO_DIR: dir,
      },
    );
    cleanups.push(async () => {
      if (run.proc.exitCode === null && run.proc.signalCode === null) killGroup(run.proc.pid!);
    });
    expect(run.output()).toMatch(/MQTT: +embedded Aedes/);
    expect(run.output()).toMatch(/PostgreSQL: embedded PGlite/);
    expect(run.output()).toMatch(/Redis: +private redis-server/);
    const aliveMs = await expectAlive(run, 3);
    const { processes, stopMs } = await interruptAndCheckNothingLeft(run);
    console.log(`demo (--embedded): alive ${aliveMs} ms after ready, ${processes} processes, stopped in ${stopMs} ms`);
  }, 200_000);

  it('leaves nothing behind even when the demo itself is killed with SIGKILL (its reaper ends the rest)', async () => {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const shared = {
      MQTT_TOPIC_ROOT: uniqueTopicRoot(),
      QUEUE_PREFIX: uniqueQueuePrefix(),
      MQTT_CLIENT_ID: `camhub-demo-test-${uniqueToken()}`,
    };
    // A killed demo cannot clean the shared broker and Redis; the test does it for it.
    cleanups.push(async () => {
      await cleanBroker('mqtt://127.0.0.1:1883', 5, shared.MQTT_CLIENT_ID, shared.MQTT_TOPIC_ROOT);
      await deleteQueueKeys('redis://127.0.0.1:6379', shared.QUEUE_PREFIX);
    });
    const run = await startDemo(
      ['--no-scenario', '--cameras', '2', '--sites', '2', '--sim-port', String(30_000 + (process.pid % 20_000))],
      {
        ...shared,
        DATABASE_URL: db.url,
        CAMHUB_DEMO_DIR: await demoDir(),
      },
    );
    const before = await processesWithMarker(run.marker);
    expect(before.some((p) => p.cmd.includes('hub/src/cli.ts'))).toBe(true);
    process.kill(-run.proc.pid!, 'SIGKILL'); // npm, tsx and the demo: no chance to clean up
    await run.exited;
    const killedAt = Date.now();
    await waitFor(async () => (await processesWithMarker(run.marker)).length === 0, {
      timeoutMs: 15_000,
      intervalMs: 250,
      what: 'the reaper to end what the killed demo had started',
    });
    console.log(`demo SIGKILLed: ${before.length} processes gone ${Date.now() - killedAt} ms later`);
  }, 120_000);
});
