/**
 * Live video: the real hub (its own process), the real edge agent (its own process, ffmpeg children) and the
 * simulator's real RTSP over the bench broker (production ACL).
 * - time to first frame: a viewer's request → the first keyframe fragment at the viewer, cold (no upstream yet:
 *   MQTT command, agent, ffmpeg's RTSP connect, first keyframe) and warm (upstream running: from the relay's GOP);
 * - relay delay: what the hub adds between an upstream fragment and a viewer, with the bench as the agent (same clock);
 * - hub CPU with 16 cameras × 4 viewers, agent CPU (node + its ffmpeg children) per live stream.
 * Scenario `clips`: the same agent restarted with event clips on every camera (a rolling buffer each, ffmpeg `-c copy`
 * segments), its CPU per camera buffer against the same agent without clips, then motion on a few cameras and their
 * clips at the hub: bytes per clip-second, and how long after the event's end each clip is playable there.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandTopic, decodeCommand } from '@camhub/shared';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { stringify } from 'yaml';
import { loadConfig } from '../../hub/src/config.js';
import { type Fmp4Part, Fmp4Splitter } from '../../hub/src/video/fmp4.js';
import { startSimulator } from '../simulator/index.js';
import { simCameras } from '../support/agent-config.js';
import { uniqueToken } from '../support/ids.js';
import { freePortBlock, REPO_ROOT } from '../support/processes.js';
import { waitFor } from '../support/wait.js';
import { type BenchBroker, HUB_MQTT_USER } from './lib/broker.js';
import { createBenchDatabase } from './lib/db.js';
import { startHub } from './lib/hub.js';
import { cpuSeconds, loadAverage } from './lib/proc.js';
import { fmt, type Row, summary } from './lib/stats.js';

export const VIDEO_SITE = 'bench-video';
export const RELAY_SITE = 'bench-relay';
/** `--scenarios`: live view (first frame, load, relay delay) and event clips (buffer CPU, clip size and delay). */
export const VIDEO_SCENARIOS = ['live', 'clips'] as const;
export type VideoScenario = (typeof VIDEO_SCENARIOS)[number];

export interface VideoOptions {
  cameras: number;
  viewersPerCamera: number;
  coldTrials: number;
  loadSeconds: number;
  relayFragments: number;
  scenarios: ReadonlySet<VideoScenario>;
  /** Seconds of agent CPU sampled at rest (without and with clip buffers). */
  restSeconds: number;
  /** Cameras given motion for the clip figures. */
  clipEvents: number;
}

/** The clip settings the `clips` scenario gives every camera: the documented defaults, the low-resolution stream. */
const BENCH_CLIPS = { preSec: 5, postSec: 10, maxSec: 60, profile: 'sub' } as const;
const MOTION_SEC = 2;

/** A viewer: GET the live stream, split it; `first` resolves at the first keyframe fragment. */
function openViewer(url: string, token: string) {
  const abort = new AbortController();
  const splitter = new Fmp4Splitter();
  let onPart: (p: Fmp4Part, at: number) => void = () => undefined;
  let resolveFirst: (ms: number) => void = () => undefined;
  let rejectFirst: (err: Error) => void = () => undefined;
  const started = performance.now();
  const first = new Promise<number>((resolve, reject) => {
    resolveFirst = resolve;
    rejectFirst = reject;
  });
  // A failure is reported through `first` (awaited by the caller); `done` only says the viewer is gone.
  first.catch(() => undefined);
  const done = (async () => {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
    if (res.status !== 200) throw new Error(`live view answered ${res.status}: ${await res.text()}`);
    const reader = res.body!.getReader();
    for (;;) {
      const { done: end, value } = await reader.read();
      if (end) return;
      const at = performance.now();
      for (const p of splitter.push(Buffer.from(value))) {
        if (p.kind === 'fragment' && p.keyframe) resolveFirst(at - started);
        onPart(p, at);
      }
    }
  })().catch((err: Error) => {
    if (err.name !== 'AbortError') rejectFirst(err);
  });
  return {
    first,
    done,
    onPart: (fn: typeof onPart) => (onPart = fn),
    close: () => abort.abort(),
  };
}

/** CPU seconds of a process and its direct children (the agent's ffmpeg processes). */
function treeCpuSeconds(pid: number): number {
  let total = cpuSeconds(pid);
  let children: number[] = [];
  try {
    children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(Number);
  } catch (err) {
    // pgrep exits 1 when there is no child: that is a valid answer.
    if ((err as { status?: number }).status !== 1) throw err;
  }
  for (const c of children.filter((n) => n > 0)) {
    try {
      total += cpuSeconds(c);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return total;
}

async function cpuOver(seconds: number, pids: () => number[], tree = false): Promise<number> {
  const read = () => pids().reduce((s, p) => s + (tree ? treeCpuSeconds(p) : cpuSeconds(p)), 0);
  // Children come and go; sample often and sum the increments so a child's time is not lost when it exits.
  const c0 = read();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return (100 * (read() - c0)) / ((performance.now() - t0) / 1000);
}

export async function runVideo(broker: BenchBroker, o: VideoOptions, log: (m: string) => void) {
  const db = await createBenchDatabase('video', { migrated: false });
  const password = `bench-${uniqueToken()}`;
  const agentToken = `agent-${uniqueToken()}`;
  const relayToken = `agent-${uniqueToken()}`;
  const config = loadConfig(
    {},
    {
      DATABASE_URL: db.url,
      MQTT_URL: broker.url,
      MQTT_USERNAME: HUB_MQTT_USER,
      MQTT_PASSWORD: broker.hubPassword,
      MQTT_CLIENT_ID: `camhub-bench-video-${uniqueToken()}`,
      QUEUE_PREFIX: `camhub-bench-${uniqueToken()}`,
      LOG_LEVEL: 'warn',
      AGENT_TOKENS: `${VIDEO_SITE}=${agentToken},${RELAY_SITE}=${relayToken}`,
      VIDEO_IDLE_STOP_SEC: 1,
    },
  );
  const hub = await startHub(config, { env: { CAMHUB_ADMIN_PASSWORD: password } });
  const basePort = await freePortBlock(o.cameras + 4, 29000);
  const sim = await startSimulator({ cameras: o.cameras, basePort, rtsp: { port: 0 }, discovery: false });
  const dir = mkdtempSync(join(tmpdir(), 'camhub-bench-video-'));
  const cameraIds = sim.cameras.map((_, i) => `cam-${String(i).padStart(2, '0')}`);
  const agentConfig = (clips: boolean) => ({
    site: VIDEO_SITE,
    mqtt: { url: broker.url, username: VIDEO_SITE, password: broker.sitePassword(VIDEO_SITE), topicRoot: 'camhub/v1' },
    hub: { url: hub.url, token: agentToken },
    dataDir: join(dir, 'data'),
    outbox: { maxBytes: 16 * 1024 * 1024 },
    // Room for every camera's clips of the scenario at once (the default 256 MiB holds them too; said, not assumed).
    media: { maxBytes: 256 * 1024 * 1024 },
    logLevel: 'warn',
    live: { maxStreams: o.cameras },
    // Stream probes are other ffmpeg runs against the same cameras: off, so the figures are live view's own.
    health: { intervalSec: 5, stream: false },
    // An event ends when its camera says so (the bench turns motion off), not by timeout.
    motionTimeoutSec: 60,
    cameras: simCameras(sim.cameras, (i) => ({
      id: cameraIds[i]!,
      name: `Bench camera ${i}`,
      snapshot: 'off',
      ...(clips ? { clips: BENCH_CLIPS } : {}),
    })),
  });
  const configFile = join(dir, 'agent.yaml');
  let output = '';
  let agent: ChildProcess | null = null;
  let exited: Promise<unknown> = Promise.resolve();
  const startAgent = (clips: boolean) => {
    writeFileSync(configFile, stringify(agentConfig(clips)));
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'edge-agent/src/main.ts'), '--config', configFile],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    proc.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
    proc.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
    exited = new Promise((r) => proc.once('exit', r));
    agent = proc;
    return proc;
  };
  const stopAgent = async () => {
    if (agent && agent.exitCode === null && agent.signalCode === null) agent.kill('SIGTERM');
    await exited;
  };
  const agentPid = () => agent!.pid!;
  startAgent(false);
  const relayAgent = await mqtt.connectAsync(broker.url, {
    username: RELAY_SITE,
    password: broker.sitePassword(RELAY_SITE),
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: 0,
  });
  try {
    const login = await fetch(`${hub.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    const token = ((await login.json()) as { token: string }).token;
    const headers = { authorization: `Bearer ${token}` };
    const camerasReporting = () =>
      waitFor(
        async () => {
          if (agent!.exitCode !== null) throw new Error(`agent exited with ${agent!.exitCode}: ${output}`);
          const res = await fetch(`${hub.url}/api/v1/cameras?site=${VIDEO_SITE}`, { headers });
          const items = ((await res.json()) as { items: { status: string }[] }).items;
          // Degraded is fine here (a loaded machine makes the simulator's fps low): the stream is what counts.
          return items.length === o.cameras && items.every((c) => c.status === 'online' || c.status === 'degraded');
        },
        { timeoutMs: 120_000, intervalMs: 500, what: `${o.cameras} cameras reporting to the hub` },
      );
    await camerasReporting();
    // Settle, then the agent at rest (no viewer, no clip buffer): the base every other agent figure is taken from.
    await new Promise((r) => setTimeout(r, 3000));
    const agentRest = await cpuOver(o.restSeconds, () => [agentPid()], true);
    const result: Record<string, unknown> = {
      cameras: o.cameras,
      scenarios: [...o.scenarios],
      agentRestCpuPct: agentRest,
    };
    const rows: Row[] = [];

    if (o.scenarios.has('live')) {
      const live = await measureLive(
        { hub, token, headers, cameraIds, agentPid, agentRest, relayAgent, relayToken },
        o,
        dir,
        log,
      );
      Object.assign(result, live.result);
      rows.push(...live.rows);
    }

    if (o.scenarios.has('clips')) {
      log(`video: clips, the agent restarted with a clip buffer on each of ${o.cameras} cameras`);
      await stopAgent();
      startAgent(true);
      await camerasReporting();
      const bufferDir = (camera: string) => join(dir, 'data', 'clips', camera, 'buffer');
      const segments = (camera: string) =>
        existsSync(bufferDir(camera)) ? readdirSync(bufferDir(camera)).filter((n) => n.endsWith('.ts')) : [];
      await waitFor(() => cameraIds.every((c) => segments(c).length > 0), {
        timeoutMs: 60_000,
        intervalMs: 500,
        what: 'a buffer segment on disk for every camera',
      });
      // A pre-roll's worth of buffer everywhere, then the agent with its buffers running and nothing else to do.
      await new Promise((r) => setTimeout(r, (BENCH_CLIPS.preSec + 2) * 1000));
      const nodeOnly = cpuOver(o.restSeconds, () => [agentPid()]);
      const withBuffers = await cpuOver(o.restSeconds, () => [agentPid()], true);
      const agentNodeCpu = await nodeOnly;
      const perBuffer = Math.max(0, withBuffers - agentRest) / o.cameras;
      const ffmpegPerBuffer = Math.max(0, withBuffers - agentNodeCpu) / o.cameras;

      log(`video: clips, motion for ${MOTION_SEC} s on ${o.clipEvents} cameras`);
      const chosen = cameraIds.slice(0, Math.min(o.clipEvents, o.cameras));
      for (const camera of chosen) sim.cameras[cameraIds.indexOf(camera)]!.setMotion(true);
      await new Promise((r) => setTimeout(r, MOTION_SEC * 1000));
      for (const camera of chosen) sim.cameras[cameraIds.indexOf(camera)]!.setMotion(false);
      const endedAt = Date.now();
      const ready = new Map<string, { bytes: number; durationMs: number; afterEndMs: number }>();
      await waitFor(
        async () => {
          for (const camera of chosen.filter((c) => !ready.has(c))) {
            const res = await fetch(`${hub.url}/api/v1/cameras/${VIDEO_SITE}/${camera}/clips`, { headers });
            const clip = ((await res.json()) as { items: { bytes: number; durationMs: number; available: boolean }[] })
              .items[0];
            if (clip?.available) ready.set(camera, { ...clip, afterEndMs: Date.now() - endedAt });
          }
          return ready.size === chosen.length;
        },
        { timeoutMs: 120_000, intervalMs: 250, what: `${chosen.length} clips playable at the hub` },
      ).catch((err: Error) => log(`  ${err.message}: ${ready.size}/${chosen.length}`));
      const clips = [...ready.values()];
      const clipSeconds = clips.reduce((n, c) => n + c.durationMs, 0) / 1000;
      const bytesPerClipSecond = clips.reduce((n, c) => n + c.bytes, 0) / Math.max(clipSeconds, 1e-9);
      const afterEnd = summary(clips.map((c) => c.afterEndMs));
      const duration = summary(clips.map((c) => c.durationMs / 1000));
      result.clips = {
        settings: BENCH_CLIPS,
        agentCpuPct: { rest: agentRest, withBuffers, node: agentNodeCpu, perBuffer, ffmpegPerBuffer },
        clipsPlayable: clips.length,
        motionSec: MOTION_SEC,
        durationSec: duration,
        bytesPerClipSecond,
        playableAfterEventEndMs: afterEnd,
      };
      const label = `clips ×${o.cameras}`;
      rows.push(
        {
          section: label,
          metric: 'agent CPU % per camera buffer (node + ffmpeg, 640×360 `-c copy`)',
          value: `${fmt(perBuffer, 2)} (ffmpeg ${fmt(ffmpegPerBuffer, 2)})`,
          target: '≤ 2',
          ok: perBuffer <= 2,
        },
        {
          section: label,
          metric: `clips playable at the hub; duration s (pre ${BENCH_CLIPS.preSec} + ${MOTION_SEC} + post ${BENCH_CLIPS.postSec})`,
          value: `${clips.length}/${chosen.length}; ${fmt(duration.p50, 1)} (max ${fmt(duration.max, 1)})`,
        },
        { section: label, metric: 'bytes per clip-second', value: `${fmt(bytesPerClipSecond)} B` },
        {
          section: label,
          metric: 'event end → clip playable at the hub p50/max ms (post-roll included)',
          value: `${fmt(afterEnd.p50)} / ${fmt(afterEnd.max)}`,
        },
      );
    }
    result.loadAvg = loadAverage();
    return { result, rows };
  } catch (err) {
    log(`video: agent output (tail):\n${output.slice(-3000)}`);
    throw err;
  } finally {
    await relayAgent.endAsync();
    await stopAgent();
    await sim.close();
    await hub.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface LiveContext {
  hub: { url: string; pid: number };
  token: string;
  headers: Record<string, string>;
  cameraIds: string[];
  agentPid: () => number;
  agentRest: number;
  relayAgent: mqtt.MqttClient;
  relayToken: string;
}

/** Live view: first frame cold and warm, 16 × 4 viewers' CPU, the relay's delay. */
async function measureLive(ctx: LiveContext, o: VideoOptions, dir: string, log: (m: string) => void) {
  const { hub, token, headers, cameraIds, agentRest, relayAgent, relayToken } = ctx;
  const liveUrl = (camera: string, profile = 'sub') =>
    `${hub.url}/api/v1/video/live/${VIDEO_SITE}/${camera}?profile=${profile}`;
  // Cold and warm time to first frame, one camera after another (each upstream ends between trials).
  log(`video: time to first frame, ${o.coldTrials} cold and warm trials`);
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < o.coldTrials; i++) {
    const camera = cameraIds[i % cameraIds.length]!;
    const a = openViewer(liveUrl(camera), token);
    cold.push(await a.first);
    const b = openViewer(liveUrl(camera), token);
    warm.push(await b.first);
    a.close();
    b.close();
    await Promise.all([a.done, b.done]);
    // Let the upstream end (VIDEO_IDLE_STOP_SEC=1) so the next trial on this camera is cold again.
    await new Promise((r) => setTimeout(r, 1500));
  }

  // Load: every camera, several viewers each.
  log(`video: ${o.cameras} cameras × ${o.viewersPerCamera} viewers for ${o.loadSeconds} s`);
  await new Promise((r) => setTimeout(r, 3000));
  // One camera's viewers every 1.5 s: the simulator's single GStreamer RTSP helper sets up one client at a time
  // (16 ffmpeg reads started together: 1 of 16 got a picture, the others "Invalid data found"; 1 s apart: 16 of 16),
  // which real cameras, each its own device, do not share. Started together, the figure measured the simulator.
  const viewers: ReturnType<typeof openViewer>[] = [];
  let bytes = 0;
  for (const [i, c] of cameraIds.entries()) {
    if (i > 0) await new Promise((r) => setTimeout(r, 1500));
    for (let k = 0; k < o.viewersPerCamera; k++) {
      const v = openViewer(liveUrl(c), token);
      v.onPart((p) => (bytes += p.data.length));
      viewers.push(v);
    }
  }
  // On a loaded machine a simulated camera may fail to stream: counted and reported, not fatal.
  const started = await Promise.allSettled(viewers.map((v) => v.first));
  const playing = started.filter((r) => r.status === 'fulfilled').length;
  const bytes0 = bytes;
  const [hubCpu, agentCpu] = await Promise.all([
    cpuOver(o.loadSeconds, () => [hub.pid]),
    cpuOver(o.loadSeconds, () => [ctx.agentPid()], true),
  ]);
  const mbitPerViewer = ((bytes - bytes0) * 8) / o.loadSeconds / Math.max(1, playing) / 1e6;
  for (const v of viewers) v.close();
  await Promise.all(viewers.map((v) => v.done));

  // Relay delay: the bench plays the agent of RELAY_SITE, so send and receive times share one clock.
  log(`video: relay delay over ${o.relayFragments} fragments`);
  const sample = join(dir, 'sample.mp4');
  execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=10', '-t', '20'],
    ...['-c:v', 'libx264', '-g', '20', '-pix_fmt', 'yuv420p', '-f', 'mp4'],
    ...['-movflags', 'frag_keyframe+empty_moov+default_base_moof', '-frag_duration', '500000', sample],
  ]);
  const parts = new Fmp4Splitter().push(readFileSync(sample));
  const topic = commandTopic(RELAY_SITE, 'camhub/v1');
  await relayAgent.subscribeAsync(topic, { qos: 1 });
  const upstream = new Promise<WebSocket>((resolve, reject) => {
    relayAgent.on('message', (_t, payload) => {
      const d = decodeCommand(payload, RELAY_SITE);
      if (d.ok !== true || d.command.kind !== 'live.start') return;
      const ws = new WebSocket(`${hub.url.replace('http', 'ws')}/api/v1/video/upstream/${d.command.stream}`, {
        headers: { authorization: `Bearer ${relayToken}` },
      });
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  });
  // The relay needs the camera to exist: the bench agent says so the way any agent does.
  const status = {
    v: 1,
    site: RELAY_SITE,
    camera: 'cam-relay',
    status: 'online',
    since: new Date().toISOString(),
    problems: [],
  };
  await relayAgent.publishAsync(`camhub/v1/${RELAY_SITE}/cameras/cam-relay/status`, JSON.stringify(status), {
    qos: 1,
    retain: false,
  });
  await waitFor(
    async () =>
      (
        (await await fetch(`${hub.url}/api/v1/cameras?site=${RELAY_SITE}`, { headers }).then((r) => r.json())) as {
          items: unknown[];
        }
      ).items.length === 1,
    { timeoutMs: 20_000, what: 'the relay camera at the hub' },
  );
  const viewer = openViewer(`${hub.url}/api/v1/video/live/${RELAY_SITE}/cam-relay?profile=main`, token);
  const ws = await upstream;
  const sentAt = new Map<number, number>();
  const delays: number[] = [];
  let n = 0;
  viewer.onPart((p, at) => {
    if (p.kind !== 'fragment') return;
    const seq = p.data.readUInt32BE(20); // mfhd sequence number (moof header 8 + mfhd header 12)
    const t = sentAt.get(seq);
    if (t !== undefined) delays.push(at - t);
  });
  const init = parts.find((p) => p.kind === 'init')!;
  ws.send(init.data);
  for (const p of parts.filter((x) => x.kind === 'fragment').slice(0, o.relayFragments)) {
    sentAt.set(p.data.readUInt32BE(20), performance.now());
    ws.send(p.data);
    n += 1;
    await new Promise((r) => setTimeout(r, 100));
  }
  await waitFor(() => delays.length >= n - 1, { timeoutMs: 10_000, what: 'relayed fragments' }).catch((err: Error) =>
    log(`  ${err.message}: ${delays.length}/${n}`),
  );
  viewer.close();
  ws.close();
  await viewer.done;

  const ttff = summary(cold);
  const ttffWarm = summary(warm);
  const relay = summary(delays);
  const perStream = Math.max(0, agentCpu - agentRest) / o.cameras;
  const hubPerViewer = hubCpu / Math.max(1, playing);
  const result = {
    viewersPerCamera: o.viewersPerCamera,
    firstFrameColdMs: ttff,
    firstFrameWarmMs: ttffWarm,
    relayDelayMs: relay,
    viewersPlaying: playing,
    hubCpuPct: hubCpu,
    hubCpuPctPerViewer: hubPerViewer,
    agentCpuPct: { rest: agentRest, live: agentCpu, perStream },
    mbitPerViewer,
  };
  const label = `video ${o.cameras}×${o.viewersPerCamera}`;
  const rows: Row[] = [
    {
      section: 'video',
      metric: 'first live frame, cold p50/p95 ms (command, ffmpeg, keyframe)',
      value: `${fmt(ttff.p50)} / ${fmt(ttff.p95)}`,
      target: 'p95 ≤ 2000',
      ok: ttff.p95 <= 2000,
    },
    {
      section: 'video',
      metric: 'first live frame, warm p50/p95 ms (upstream running)',
      value: `${fmt(ttffWarm.p50)} / ${fmt(ttffWarm.p95)}`,
    },
    {
      section: 'video',
      metric: 'relay delay p50/p99 ms (upstream fragment → viewer)',
      value: `${fmt(relay.p50, 1)} / ${fmt(relay.p99, 1)}`,
      target: 'p99 ≤ 300',
      ok: relay.p99 <= 300,
    },
    {
      section: label,
      metric: 'viewers playing; hub CPU % of a core (per viewer)',
      value: `${playing}/${viewers.length}; ${fmt(hubCpu, 1)} (${fmt(hubPerViewer, 2)})`,
    },
    {
      section: label,
      metric: 'agent CPU % per live stream (node + ffmpeg, 640×360 copy)',
      value: fmt(perStream, 2),
      target: '≤ 2',
      ok: perStream <= 2,
    },
    { section: label, metric: 'Mbit/s per viewer', value: fmt(mbitPerViewer, 2) },
  ];
  return { result, rows };
}
