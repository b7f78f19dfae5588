import { type Topics } from '@camhub/shared';
import type { FastifyInstance } from 'fastify';
import type { MqttClient } from 'mqtt';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CameraStatusChange } from '../../hub/src/bus.js';
import { makeAgentStatus, makeHealth } from '../support/factories.js';
import { authHeaders } from '../support/auth.js';
import { usePublisher, useTestHub } from '../support/hub-fixture.js';
import { publishJson } from '../support/mqtt.js';
import { sleep, waitFor } from '../support/wait.js';

let hub: FastifyInstance;
let pub: MqttClient;
let t: Topics;
const changes: CameraStatusChange[] = [];

interface Cam {
  camera: string;
  status: string;
  since: string | null;
  problems: { code: string }[];
}
const get = async (url: string) => hub.inject({ method: 'GET', url, headers: await authHeaders(hub) });
const camera = async (site: string, cam: string) => {
  const res = await get(`/api/v1/cameras?site=${site}`);
  return (res.json().items as Cam[]).find((c) => c.camera === cam);
};

// A 2-second heartbeat timeout and a 1-second sweep keep the test short; production uses 90 s and 10 s.
const fixture = useTestHub({ HEALTH_STALE_SEC: 2, HEALTH_SWEEP_SEC: 1, ALERT_TICK_SEC: 1 });
const mqtt = usePublisher(fixture);
beforeAll(async () => {
  ({ hub } = fixture);
  ({ pub, topics: t } = mqtt);
  hub.container.bus.on('camera.status', (c) => changes.push(c));
});

describe('camera status at the hub', () => {
  it('goes online from samples, offline with no_heartbeat when they stop, and recovers when they resume', async () => {
    await publishJson(pub, t.agent('hb'), makeAgentStatus({ site: 'hb' }));
    await publishJson(pub, t.health('hb', 'cam-1'), makeHealth({ site: 'hb', camera: 'cam-1' }));
    await waitFor(async () => (await camera('hb', 'cam-1'))?.status === 'online', { what: 'online' });
    // Silence: the sweeper (a BullMQ job scheduler) notices.
    const offline = await waitFor(
      async () => {
        const c = await camera('hb', 'cam-1');
        return c?.status === 'offline' ? c : null;
      },
      { timeoutMs: 10_000, what: 'offline by heartbeat' },
    );
    expect(offline.problems.map((p) => p.code)).toEqual(['no_heartbeat']);
    await publishJson(pub, t.health('hb', 'cam-1'), makeHealth({ site: 'hb', camera: 'cam-1' }));
    await waitFor(async () => (await camera('hb', 'cam-1'))?.status === 'online', { what: 'recovered' });
    const seq = changes.filter((c) => c.site === 'hb').map((c) => `${c.from}->${c.to}`);
    expect(seq).toEqual(['unknown->online', 'online->offline', 'offline->online']);
  });

  it("marks every camera of a site unknown on its agent's last will, and recovers on fresh samples", async () => {
    for (const cam of ['a', 'b'])
      await publishJson(pub, t.health('lw', cam), makeHealth({ site: 'lw', camera: cam, status: 'degraded' }));
    await waitFor(async () => (await camera('lw', 'b'))?.status === 'degraded');
    await publishJson(pub, t.agent('lw'), makeAgentStatus({ site: 'lw', state: 'offline' }), { retain: true });
    for (const cam of ['a', 'b']) {
      const c = await waitFor(
        async () => {
          const x = await camera('lw', cam);
          return x?.status === 'unknown' ? x : null;
        },
        { what: `lw/${cam} unknown` },
      );
      expect(c.problems[0]!.code).toBe('agent_offline');
    }
    await publishJson(pub, t.agent('lw'), makeAgentStatus({ site: 'lw', state: 'online' }), { retain: true });
    await publishJson(pub, t.health('lw', 'a'), makeHealth({ site: 'lw', camera: 'a' }));
    await waitFor(async () => (await camera('lw', 'a'))?.status === 'online', { what: 'lw/a online again' });
    // Clear the retained agent status we left on the shared broker.
    await pub.publishAsync(t.agent('lw'), '', { qos: 1, retain: true });
  });

  it('answers transitions with an uptime over the range, and filters the camera list by status', async () => {
    await publishJson(pub, t.agent('up'), makeAgentStatus({ site: 'up' }));
    await publishJson(pub, t.health('up', 'c'), makeHealth({ site: 'up', camera: 'c' }));
    await waitFor(async () => (await camera('up', 'c'))?.status === 'online');
    await sleep(1000);
    await publishJson(
      pub,
      t.health('up', 'c'),
      makeHealth({
        site: 'up',
        camera: 'c',
        status: 'offline',
        problems: [{ code: 'unreachable', message: 'timeout' }],
      }),
    );
    await waitFor(async () => (await camera('up', 'c'))?.status === 'offline');
    const res = await get(`/api/v1/cameras/up/c/transitions?from=${new Date(Date.now() - 60_000).toISOString()}`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.items.map((i: { to: string }) => i.to)).toEqual(['online', 'offline']);
    expect(body.items[1].problems[0].code).toBe('unreachable');
    expect(body.uptime.seconds.online).toBeGreaterThanOrEqual(1);
    expect(body.uptime.pct).toBeGreaterThan(0);
    expect(body.uptime.pct).toBeLessThan(100);
    const offline = (await get('/api/v1/cameras?status=offline&site=up')).json().items;
    expect(offline.map((c: Cam) => c.camera)).toEqual(['c']);
    expect(
      (await get('/api/v1/cameras/up/c/transitions?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z')).statusCode,
    ).toBe(400);
  });

  it('leaves a camera disabled in the registry alone: no offline verdict, no health alert', async () => {
    const headers = await authHeaders(hub);
    const rule = await hub.inject({
      method: 'POST',
      url: '/api/v1/alert-rules',
      headers,
      payload: {
        kind: 'health',
        name: 'Mất kết nối (dis)',
        severity: 'warning',
        sites: ['dis'],
        condition: 'camera_offline',
        forSec: 0,
      },
    });
    expect(rule.statusCode).toBe(201);
    await publishJson(pub, t.agent('dis'), makeAgentStatus({ site: 'dis' }));
    for (const cam of ['on', 'off'])
      await publishJson(pub, t.health('dis', cam), makeHealth({ site: 'dis', camera: cam }));
    await waitFor(async () => (await camera('dis', 'off'))?.status === 'online', { what: 'both online' });
    const disabled = await hub.inject({
      method: 'PATCH',
      url: '/api/v1/sites/dis/cameras/off',
      headers,
      payload: { enabled: false },
    });
    expect(disabled.statusCode).toBe(200);
    // Both fall silent: the enabled camera goes offline and raises the rule's alert; the disabled one does neither.
    await waitFor(async () => (await camera('dis', 'on'))?.status === 'offline', {
      timeoutMs: 10_000,
      what: 'offline',
    });
    const alerts = await waitFor(
      async () => {
        const items = (await get('/api/v1/alerts?site=dis')).json().items as { camera: string | null }[];
        return items.length > 0 ? items : null;
      },
      { timeoutMs: 10_000, what: "the enabled camera's offline alert" },
    );
    await sleep(3000);
    // Its last measured status is kept, and the list says it is no longer measured (the console shows it switched off).
    expect(await camera('dis', 'off')).toMatchObject({ status: 'online', enabled: false });
    expect(await camera('dis', 'on')).toMatchObject({ status: 'offline', enabled: true });
    const after = (await get('/api/v1/alerts?site=dis')).json().items as { camera: string | null }[];
    expect(after.map((a) => a.camera)).toEqual(['on']);
    expect(alerts.map((a) => a.camera)).toEqual(['on']);
    expect(changes.filter((c) => c.site === 'dis' && c.camera === 'off').map((c) => c.to)).toEqual(['online']);
  });
});
