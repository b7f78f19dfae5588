// Remote adoption end to end, every part real: the hub (PostgreSQL, Redis, Mosquitto), the edge agent in-process, and
// simulated ONVIF cameras answering WS-Discovery. The agent's YAML names one camera; the other is found on the
// network, adopted through the API, and runs without a file edited or a process restarted.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createTopics, type SiteCameras } from '@camhub/shared';
import { startSimulator, type Simulator } from '@camhub/simulator';
import type { FastifyInstance } from 'fastify';
import mqtt from 'mqtt';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../edge-agent/src/agent.js';
import { parseConfig } from '../../edge-agent/src/config.js';
import { tempDir } from '../support/agent-harness.js';
import { authHeaders, createUser } from '../support/auth.js';
import { type TestHubEnv } from '../support/hub.js';
import { useTestHub } from '../support/hub-fixture.js';
import { uniqueToken } from '../support/ids.js';
import { makeHealth } from '../support/factories.js';
import { connectPublisher, MQTT_URL, publishJson } from '../support/mqtt.js';
import { freePortBlock } from '../support/processes.js';
import { waitFor } from '../support/wait.js';
import { simCameras, testAgentConfig } from '../support/agent-config.js';

const BASE_PORT = await freePortBlock(16, 30000);
const SITE = `adopt-${uniqueToken()}`.slice(0, 40);

let env: TestHubEnv;
let hub: FastifyInstance;
let sim: Simulator;
let agent: Agent | null = null;
let dataDir: string;
let admin: { authorization: string };

function agentConfig(mqttUrl = MQTT_URL) {
  return parseConfig(
    testAgentConfig({
      site: SITE,
      mqtt: { url: mqttUrl, topicRoot: env.config.MQTT_TOPIC_ROOT },
      dataDir,
      discovery: true,
      motionTimeoutSec: 3,
      health: { intervalSec: 2, stream: false },
      cameras: simCameras([sim.cameras[0]!], () => ({ id: 'cong-chinh', name: 'Cổng chính' })),
    }),
  );
}
const startAgent = (mqttUrl?: string) => {
  agent = new Agent(agentConfig(mqttUrl), pino({ level: process.env.AGENT_TEST_LOG ?? 'silent' }));
  agent.start();
  return agent;
};

const siteCameras = async (headers = admin): Promise<SiteCameras> => {
  const res = await hub.inject({ method: 'GET', url: `/api/v1/sites/${SITE}/cameras`, headers });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};

beforeAll(async () => {
  sim = await startSimulator({ cameras: 2, basePort: BASE_PORT, rtsp: false });
  dataDir = tempDir('adoption-');
}, 60_000);
const fixture = useTestHub();
beforeAll(async () => {
  ({ env, hub } = fixture);
  admin = await authHeaders(hub, 'admin');
  await hub.inject({
    method: 'POST',
    url: '/api/v1/sites',
    headers: admin,
    payload: { id: SITE, name: 'Trường Tiểu học Trường Sơn', kind: 'school' },
  });
  startAgent();
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  await sim?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('remote adoption', () => {
  const found = () => sim.cameras[1]!;
  /** WS-Discovery answers from other test files' simulators come too: ours is told by its port. */
  const isCam = (d: { xaddrs: string[] }, cam: { host: string; port: number }) =>
    d.xaddrs.some((x) => x.includes(`:${cam.port}/`));

  it('lists the camera the agent discovered and its YAML does not name', async () => {
    const cam = found();
    const list = await waitFor(
      async () => {
        const l = await siteCameras();
        return l.discovered.some((d) => isCam(d, cam)) ? l : null;
      },
      { timeoutMs: 20_000, what: 'the discovered camera' },
    );
    // The YAML camera is not offered for adoption (same host:port).
    expect(list.discovered.filter((d) => isCam(d, sim.cameras[0]!))).toEqual([]);
  });

  it('adopts it: the agent starts it without a restart, reports the version, and its motion reaches the hub', async () => {
    const cam = found();
    const res = await hub.inject({
      method: 'POST',
      url: `/api/v1/sites/${SITE}/cameras`,
      headers: admin,
      payload: {
        id: 'san-truong',
        name: 'Sân trường',
        location: 'Góc sân phía bắc',
        host: cam.host,
        port: cam.port,
        username: cam.username,
        password: cam.password,
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ camera: 'san-truong', adopted: true, passwordSet: true, name: 'Sân trường' });
    expect(res.body).not.toContain(cam.password);

    await waitFor(() => cam.stats().activeSubscriptions === 1, {
      timeoutMs: 20_000,
      what: 'adopted camera subscribed',
    });
    const list = await waitFor(
      async () => {
        const l = await siteCameras();
        return l.agent?.config?.version === 1 ? l : null;
      },
      { timeoutMs: 20_000, what: 'the agent reporting version 1' },
    );
    expect(list.version).toBe(1);
    expect(list.discovered.filter((d) => isCam(d, cam))).toEqual([]);
    const adopted = list.cameras.find((c) => c.camera === 'san-truong');
    expect(adopted).toMatchObject({ applied: { source: 'hub', result: 'running' }, location: 'Góc sân phía bắc' });
    expect(list.cameras.find((c) => c.camera === 'cong-chinh')?.applied).toMatchObject({ source: 'local' });

    cam.setMotion(true);
    const events = await waitFor(
      async () => {
        const r = await hub.inject({
          method: 'GET',
          url: `/api/v1/events?site=${SITE}&camera=san-truong&type=motion`,
          headers: admin,
        });
        const items = (r.json() as { items: unknown[] }).items;
        return items.length ? items : null;
      },
      { timeoutMs: 20_000, what: "the adopted camera's motion event at the hub" },
    );
    expect(events[0]).toMatchObject({ site: SITE, camera: 'san-truong', type: 'motion' });
    cam.setMotion(false);
  });

  it('seals the password at rest; no route gives it to a technician (or anyone)', async () => {
    const cam = found();
    const client = new pg.Client({ connectionString: env.db.url });
    await client.connect();
    const { rows } = await client.query<{ secrets: string }>(
      'SELECT secrets FROM camera_registry WHERE site = $1 AND camera = $2',
      [SITE, 'san-truong'],
    );
    await client.end();
    expect(rows[0]!.secrets).toMatch(/^v1\./);
    expect(rows[0]!.secrets).not.toContain(cam.password);

    const technician = await createUser(hub, ['technician']);
    const bodies: string[] = [];
    for (const url of [
      `/api/v1/sites/${SITE}/cameras`,
      `/api/v1/cameras?site=${SITE}`,
      `/api/v1/sites/${SITE}`,
      `/api/v1/audit?limit=200`,
    ]) {
      for (const headers of [technician.headers, admin]) {
        const r = await hub.inject({ method: 'GET', url, headers });
        bodies.push(`${url} ${r.statusCode} ${r.body}`);
      }
    }
    for (const body of bodies) expect(body).not.toContain(cam.password);
    // A technician manages cameras (renames here), still never sees the password.
    const renamed = await hub.inject({
      method: 'PATCH',
      url: `/api/v1/sites/${SITE}/cameras/san-truong`,
      headers: technician.headers,
      payload: { name: 'Sân trường (bắc)' },
    });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.body).not.toContain(cam.password);
  });

  it('a site-limited admin changes only its own sites', async () => {
    const other = await createUser(hub, ['admin'], { sites: ['somewhere-else'] });
    for (const req of [
      { method: 'GET' as const, url: `/api/v1/sites/${SITE}/cameras` },
      { method: 'PATCH' as const, url: `/api/v1/sites/${SITE}/cameras/san-truong`, payload: { enabled: false } },
      { method: 'DELETE' as const, url: `/api/v1/sites/${SITE}/cameras/san-truong` },
    ]) {
      const r = await hub.inject({ ...req, headers: other.headers });
      expect(r.statusCode, `${req.method} ${req.url}`).toBe(404);
    }
    expect((await siteCameras()).cameras.find((c) => c.camera === 'san-truong')?.enabled).toBe(true);
  });

  it('refuses a malformed configuration and keeps running the last good one', async () => {
    const publisher = await mqtt.connectAsync(MQTT_URL);
    const topic = `${env.config.MQTT_TOPIC_ROOT}/${SITE}/config`;
    await publisher.publishAsync(topic, '{"v":1,"site":"x","version":', { qos: 1, retain: true });
    await publisher.endAsync();
    const list = await waitFor(
      async () => {
        const l = await siteCameras();
        return l.agent?.config?.refused ? l : null;
      },
      { timeoutMs: 10_000, what: 'the refusal reported' },
    );
    expect(list.agent?.config).toMatchObject({ refused: { code: 'not_json' } });
    expect(list.agent?.config?.version).toBeGreaterThanOrEqual(1);
    expect(agent!.cameras.map((c) => c.id).sort()).toEqual(['cong-chinh', 'san-truong']);
    // The hub's next change heals the retained topic.
    await hub.inject({
      method: 'PATCH',
      url: `/api/v1/sites/${SITE}/cameras/san-truong`,
      headers: admin,
      payload: { location: 'Sân trước' },
    });
    await hub.inject({
      method: 'PATCH',
      url: `/api/v1/sites/${SITE}/cameras/cong-chinh`,
      headers: admin,
      payload: { name: 'Cổng chính (đường Trần Phú)' },
    });
    await waitFor(
      async () => {
        const l = await siteCameras();
        return l.agent?.config?.version === l.version && !l.agent?.config?.refused;
      },
      { timeoutMs: 10_000, what: 'the next version applied' },
    );
  });

  it('keeps the adopted camera across a restart, even before the broker answers', async () => {
    const version = agent!.configVersion;
    await agent!.stop();
    const stored = JSON.parse(readFileSync(join(dataDir, 'hub-config.json'), 'utf8')) as { version: number };
    expect(stored.version).toBe(version);
    // No broker at all: only the file on disk can say what to run.
    const offline = new Agent(agentConfig('mqtt://127.0.0.1:1'), pino({ level: 'silent' }));
    expect(offline.configVersion).toBe(version);
    expect(offline.cameras.map((c) => c.id).sort()).toEqual(['cong-chinh', 'san-truong']);
    await offline.stop();
    startAgent();
    await waitFor(() => found().stats().activeSubscriptions >= 1, { timeoutMs: 20_000, what: 'resubscribed' });
  });

  it('disables a YAML camera and removes the adopted one, both without a restart', async () => {
    const local = sim.cameras[0]!;
    await waitFor(() => local.stats().activeSubscriptions === 1, { timeoutMs: 20_000, what: 'local subscribed' });
    const disabled = await hub.inject({
      method: 'PATCH',
      url: `/api/v1/sites/${SITE}/cameras/cong-chinh`,
      headers: admin,
      payload: { enabled: false },
    });
    expect(disabled.statusCode, disabled.body).toBe(200);
    const local409 = await hub.inject({
      method: 'DELETE',
      url: `/api/v1/sites/${SITE}/cameras/cong-chinh`,
      headers: admin,
    });
    expect(local409.statusCode).toBe(409);
    expect(local409.json()).toMatchObject({ error: { code: 'camera_local' } });
    const removed = await hub.inject({
      method: 'DELETE',
      url: `/api/v1/sites/${SITE}/cameras/san-truong`,
      headers: admin,
    });
    expect(removed.statusCode, removed.body).toBe(204);
    await waitFor(() => agent!.cameras.length === 0, { timeoutMs: 10_000, what: 'both cameras stopped' });
    const list = await waitFor(
      async () => {
        const l = await siteCameras();
        return l.agent?.config?.version === l.version ? l : null;
      },
      { timeoutMs: 10_000, what: 'the last version reported' },
    );
    expect(list.agent?.config?.cameras).toEqual([{ id: 'cong-chinh', source: 'local', result: 'disabled' }]);
    expect(list.cameras.map((c) => c.camera)).toEqual(['cong-chinh']);
    const audit = await hub.inject({ method: 'GET', url: '/api/v1/audit?limit=200', headers: admin });
    const actions = (audit.json() as { items: { action: string; target: string | null }[] }).items
      .filter((e) => e.target?.startsWith(`${SITE}/`))
      .map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['camera.adopt', 'camera.update', 'camera.remove']));
  });

  it('keeps a removed camera removed when what its agent sent before stopping it arrives late', async () => {
    // The race the test above lost at high load: samples the agent sent between the removal and applying the new
    // version (or still in a batch) wrote the camera's row back, and it was listed again as one only heard from.
    const pub = await connectPublisher();
    try {
      const late = makeHealth({ site: SITE, camera: 'san-truong' });
      await publishJson(pub, createTopics(env.config.MQTT_TOPIC_ROOT).health(SITE, 'san-truong'), late);
      await waitFor(
        async () =>
          (
            await hub.pg.query('SELECT 1 FROM health_samples WHERE site = $1 AND camera = $2 AND at = $3', [
              SITE,
              'san-truong',
              late.at,
            ])
          ).rowCount === 1,
        { timeoutMs: 10_000, what: 'the late sample stored' },
      );
    } finally {
      await pub.endAsync();
    }
    expect((await siteCameras()).cameras.map((c) => c.camera)).toEqual(['cong-chinh']);
  });
});
