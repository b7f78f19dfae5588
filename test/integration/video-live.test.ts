import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../edge-agent/src/agent.js';
import { parseConfig } from '../../edge-agent/src/config.js';
import { tempDir } from '../support/agent-harness.js';
import { type Fmp4Part, Fmp4Splitter } from '../../hub/src/video/fmp4.js';
import { startSimulator, type Simulator } from '@camhub/simulator';
import { createUser, type TestUser } from '../support/auth.js';
import { hubUrl, type TestHubEnv } from '../support/hub.js';
import { useTestHub } from '../support/hub-fixture.js';
import { uniqueToken } from '../support/ids.js';
import { freePortBlock } from '../support/processes.js';
import { waitFor } from '../support/wait.js';
import { simCameras, testAgentConfig } from '../support/agent-config.js';

// Live view end to end without a browser: the simulator's real RTSP (GStreamer), the real agent with real ffmpeg,
// the hub's relay over a real WebSocket, real Mosquitto for the commands; a viewer is a plain HTTP client.
const BASE_PORT = await freePortBlock(32, 27000);
const SITE = `lv-${uniqueToken().slice(0, 6)}`;
const AGENT_TOKEN = `agent-${uniqueToken()}`;

let env: TestHubEnv;
let hub: FastifyInstance;
let url: string;
let sim: Simulator;
let agent: Agent;
let operator: TestUser;

/** An open live view: what it received, split into init and fragments, until `close`. */
function watch(user: TestUser, camera: string, profile: 'main' | 'sub' = 'sub') {
  const abort = new AbortController();
  const parts: Fmp4Part[] = [];
  const splitter = new Fmp4Splitter();
  const state = { status: 0, contentType: '', ended: false, body: '' };
  const done = (async () => {
    const res = await fetch(`${url}/api/v1/video/live/${SITE}/${camera}?profile=${profile}`, {
      headers: user.headers,
      signal: abort.signal,
    });
    state.status = res.status;
    state.contentType = res.headers.get('content-type') ?? '';
    if (res.status !== 200) {
      state.body = await res.text();
      state.ended = true;
      return;
    }
    const reader = res.body!.getReader();
    for (;;) {
      const { done: end, value } = await reader.read();
      if (end) break;
      parts.push(...splitter.push(Buffer.from(value)));
    }
    state.ended = true;
  })().catch((err: Error) => {
    state.ended = true;
    if (err.name !== 'AbortError') throw err;
  });
  return { parts, state, done, close: () => abort.abort() };
}

// The periodic session check is far away: a logout must end the stream through the published session change.
const fixture = useTestHub(
  {
    AGENT_TOKENS: `${SITE}=${AGENT_TOKEN}`,
    VIDEO_IDLE_STOP_SEC: 3,
    VIDEO_SESSION_CHECK_SEC: 60,
  },
  { listen: true },
);
beforeAll(async () => {
  ({ env, hub } = fixture);
  url = hubUrl(hub);
  sim = await startSimulator({ cameras: 2, basePort: BASE_PORT, rtsp: { port: 0 }, discovery: false });
  expect(sim.rtspAvailable, sim.rtspUnavailableReason ?? '').toBe(true);
  agent = new Agent(
    parseConfig(
      testAgentConfig({
        site: SITE,
        mqtt: { url: env.config.MQTT_URL, topicRoot: env.config.MQTT_TOPIC_ROOT },
        hub: { url, token: AGENT_TOKEN },
        dataDir: tempDir('video-live-'),
        health: { intervalSec: 2 },
        cameras: simCameras(sim.cameras),
      }),
    ),
    pino({ level: process.env.TEST_AGENT_LOG ?? 'silent' }),
  );
  agent.start();
  operator = await createUser(hub, ['operator']);
  await waitFor(
    async () =>
      (await hub.container.repositories.cameras.exists(SITE, 'cam-0')) && agent.cameras[0]!.streamUrl() !== null,
    { timeoutMs: 30_000, what: 'cam-0 known to the hub and connected at the agent' },
  );
}, 90_000);

afterAll(async () => {
  await agent?.stop();
  await sim?.close();
});

describe('live view', () => {
  it('relays H.264 fMP4 from one upstream to two viewers, starting each at a keyframe, and ends it after both leave', async () => {
    const a = watch(operator, 'cam-0');
    await waitFor(() => a.parts.filter((p) => p.kind === 'fragment').length >= 3, {
      timeoutMs: 20_000,
      what: 'three fragments at viewer A',
    });
    expect(a.state.status).toBe(200);
    expect(a.state.contentType).toMatch(/^video\/mp4; codecs="avc1\.[0-9A-F]{6}"$/);
    expect(a.parts[0]).toMatchObject({ kind: 'init' });
    expect(a.parts[1]).toMatchObject({ kind: 'fragment', keyframe: true });

    const b = watch(operator, 'cam-0');
    await waitFor(() => b.parts.filter((p) => p.kind === 'fragment').length >= 1, { what: 'a fragment at viewer B' });
    expect(b.parts[0]).toMatchObject({ kind: 'init' });
    expect(b.parts[1]).toMatchObject({ kind: 'fragment', keyframe: true });
    expect(agent.live.activeStreams).toBe(1);
    expect(hub.video.relay.stats()).toMatchObject({ upstreams: 1, viewers: 2 });

    a.close();
    b.close();
    const closedAt = Date.now();
    await waitFor(() => agent.live.activeStreams === 0, { timeoutMs: 10_000, what: 'no upstream left at the agent' });
    expect(Date.now() - closedAt).toBeLessThan(10_000);
    expect(hub.video.relay.stats()).toMatchObject({ channels: 0, viewers: 0 });

    const audit = await hub.inject({
      method: 'GET',
      url: '/api/v1/audit?action=video.live.',
      headers: (await createUser(hub, ['admin'])).headers,
    });
    const items = (audit.json() as { items: { action: string; actor: string; target: string; detail: object }[] })
      .items;
    const closes = items.filter((i) => i.action === 'video.live.close' && i.actor === operator.username);
    expect(closes.length).toBe(2);
    expect(closes[0]).toMatchObject({ target: `${SITE}/cam-0`, detail: { profile: 'sub', reason: 'viewer_left' } });
    expect(closes[0]!.detail).toHaveProperty('openedAt');
    expect(closes[0]!.detail).toHaveProperty('closedAt');
  }, 60_000);

  it('refuses technicians, police (setting off) and other sites; a logout ends the stream', async () => {
    const technician = await createUser(hub, ['technician']);
    const police = await createUser(hub, ['police']);
    const elsewhere = await createUser(hub, ['operator'], { sites: ['other-site'] });
    for (const [user, status, code] of [
      [technician, 403, 'forbidden'],
      [police, 403, 'live_not_allowed'],
      [elsewhere, 404, 'not_found'],
    ] as const) {
      const v = watch(user, 'cam-0');
      await v.done;
      expect(v.state.status, user.username).toBe(status);
      expect(JSON.parse(v.state.body)).toMatchObject({ error: { code } });
    }
    const unknown = watch(operator, 'no-such-cam');
    await unknown.done;
    expect(unknown.state.status).toBe(404);

    const viewer = await createUser(hub, ['operator']);
    const v = watch(viewer, 'cam-1', 'main');
    await waitFor(() => v.parts.some((p) => p.kind === 'fragment'), { timeoutMs: 20_000, what: 'live video' });
    const out = await fetch(`${url}/api/v1/auth/logout`, { method: 'POST', headers: viewer.headers });
    expect(out.status).toBeLessThan(300);
    await waitFor(() => v.state.ended, { timeoutMs: 10_000, what: 'the stream to end after logout' });
    await waitFor(() => agent.live.activeStreams === 0, { timeoutMs: 10_000, what: 'upstream ended' });
    const audit = await hub.inject({
      method: 'GET',
      url: `/api/v1/audit?action=video.live.close&actor=${viewer.username}`,
      headers: (await createUser(hub, ['admin'])).headers,
    });
    expect((audit.json() as { items: { detail: { reason: string } }[] }).items[0]?.detail.reason).toBe('session_ended');
  }, 60_000);

  it('accepts upstreams only as WebSockets, with a site token, for streams the hub asked for', async () => {
    const path = `/api/v1/video/upstream/${'x'.repeat(20)}`;
    const plain = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${AGENT_TOKEN}` } });
    expect(plain.status).toBe(426);
    const outcome = (token: string) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(`${url.replace('http', 'ws')}${path}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        ws.on('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
        ws.on('close', (code, reason) => resolve(`close ${code} ${reason.toString()}`));
        ws.on('error', () => undefined);
      });
    expect(await outcome('wrong-token')).toBe('http 401');
    expect(await outcome(AGENT_TOKEN)).toBe('close 4404 unknown_stream');
  });
});
