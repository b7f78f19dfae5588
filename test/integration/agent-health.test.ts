import { readFileSync, rmSync } from 'node:fs';
import { freePortBlock } from '../support/processes.js';
import { requireRtsp } from '../support/dependencies.js';
import net from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../edge-agent/src/agent.js';
import { parseConfig } from '../../edge-agent/src/config.js';
import { liveFfmpegCount, probeStream } from '../../edge-agent/src/media/ffmpeg.js';
import { simCameras, testAgentConfig } from '../support/agent-config.js';
import { Collector, processTable, sleep, tempDir } from '../support/agent-harness.js';
import { type SimCamera, startSimulator, type Simulator } from '@camhub/simulator';
import { uniqueToken, uniqueTopicRoot } from '../support/ids.js';

// Health probes of the real agent (in-process) against the simulator's real RTSP streams (GStreamer), real ffmpeg
// and real Mosquitto. Intervals are shortened: a probe every 7 s reading 1.5 s of stream, the detector every 4 s.
// A free block in this file's own band (test/support/processes.ts: freePortBlock).
const BASE_PORT = await freePortBlock(32, 24000);
const ROOT = uniqueTopicRoot();
const SITE = `hlt-${uniqueToken()}`;
const SIM_FPS = 10; // the simulator's profile: H.264 640x360 10 fps ~256 kbit/s
const STAGE_MS = 40_000;

let sim: Simulator;
let agent: Agent | null = null;
let collector: Collector;
let dataDir: string;
let cams: SimCamera[];
const measured: Record<string, number | string> = {};

type Sample = {
  at: string;
  status: string;
  onvif: Record<string, unknown>;
  stream: Record<string, unknown> | null;
  problems: Array<{ code: string; message: string }>;
};

function samples(camera: string, since: number): Sample[] {
  return collector.messages
    .filter((m) => m.topic.endsWith(`/cameras/${camera}/health`) && m.receivedAt >= since)
    .map((m) => m.payload as unknown as Sample);
}

const codes = (s: Sample) => s.problems.map((p) => p.code);

function waitSample(camera: string, since: number, pred: (s: Sample) => boolean, what: string): Promise<Sample> {
  return collector.waitFor(() => samples(camera, since).find(pred), STAGE_MS, `${camera}: ${what}`);
}

function streamEvents(camera: string) {
  return collector.events(camera).filter((e) => (e.source as { kind: string }).kind === 'stream');
}

function retainedStatus(camera: string): Record<string, unknown> | undefined {
  return collector.messages.filter((m) => m.topic.endsWith(`/cameras/${camera}/status`)).at(-1)?.payload;
}

/** ffmpeg processes that are children of this process (the agent runs in it), zombies included. */
function ffmpegChildren(): Array<{ pid: number; state: string }> {
  return processTable()
    .filter((p) => p.comm === 'ffmpeg' && p.ppid === process.pid)
    .filter((p) => {
      // The simulator (also in this process) makes its snapshot JPEGs with ffmpeg: only RTSP readers are the agent's.
      try {
        return readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').includes('rtsp://');
      } catch {
        return false; // exited while we looked
      }
    })
    .map((p) => ({ pid: p.pid, state: p.state }));
}

beforeAll(async () => {
  sim = await startSimulator({ cameras: 3, basePort: BASE_PORT, rtsp: { port: 0 }, discovery: false });
  cams = sim.cameras;
  if (!sim.rtspAvailable) return;
  collector = await Collector.connect('mqtt://127.0.0.1:1883', ROOT);
  dataDir = tempDir('agent-health-');
  const config = parseConfig(
    testAgentConfig({
      site: SITE,
      mqtt: { url: 'mqtt://127.0.0.1:1883', topicRoot: ROOT },
      dataDir,
      onvif: { requestTimeoutMs: 1000, leaseSec: 10, renewSec: 2, clockCheckSec: 60 },
      health: {
        // A probe of 1.5 s of stream takes ~3-4 s here (the simulator starts an encoder per viewer, and two share two
        // cores): 3 cameras over 2 slots fit in 7 s.
        intervalSec: 7,
        concurrency: 2,
        streamProbeSec: 1.5,
        streamTimeoutSec: 6,
        detectorIntervalSec: 4,
        freezeSec: 1,
        blackSec: 1,
        confirmRuns: 2,
      },
      cameras: [
        ...simCameras(cams, () => ({ snapshot: 'off' })),
        // cam-0's device with a wrong password: it answers, but refuses us.
        ...simCameras([{ ...cams[0]!, password: 'not-the-password' }], () => ({
          id: 'wrong-pw',
          name: 'Wrong password',
          snapshot: 'off',
        })),
      ],
    }),
  );
  agent = new Agent(config, pino({ level: process.env.AGENT_TEST_LOG ?? 'silent' }));
  agent.start();
}, 30_000);

afterAll(async () => {
  await agent?.stop();
  await collector?.close();
  await sim?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  console.log('agent health, measured:', JSON.stringify(measured));
});

describe('edge agent health probes', () => {
  it('healthy cameras are online with the stream the simulator sends', async (ctx) => {
    requireRtsp(ctx, sim);
    const t0 = Date.now();
    for (const camera of ['cam-0', 'cam-1', 'cam-2']) {
      // The very first probe may run before the ONVIF connect has given a stream address (stream: null).
      const s = await waitSample(camera, 0, (x) => x.status === 'online' && x.stream !== null, 'online');
      expect(s.problems).toEqual([]);
      expect(s.stream).toMatchObject({ ok: true, codec: 'h264', width: 640, height: 360, frozen: false, black: false });
      const fps = s.stream!.fps as number;
      expect(Math.abs(fps - SIM_FPS)).toBeLessThan(1.5);
      expect(s.stream!.bitrateKbps as number).toBeGreaterThan(50);
      expect(s.stream!.bitrateKbps as number).toBeLessThan(1000);
      expect(s.stream!.expectedFps).toBe(SIM_FPS);
      expect(s.onvif).toMatchObject({ reachable: true, eventsSubscribed: true, authFailed: false });
      expect(s.onvif.latencyMs as number).toBeGreaterThanOrEqual(0);
      expect(Math.abs(s.onvif.clockSkewMs as number)).toBeLessThan(1000);
      measured[`${camera}.fps`] = fps;
      measured[`${camera}.kbps`] = s.stream!.bitrateKbps as number;
      await collector.waitFor(() => retainedStatus(camera)?.status === 'online', 5000, 'retained online');
      expect(retainedStatus(camera)).toMatchObject({ problems: [] });
    }
    measured.allOnlineMs = Date.now() - t0;
    // Probes of three cameras ran with two stream slots: the shared limit held, and nothing overran the interval.
    expect(agent!.health.limiter.peak).toBeLessThanOrEqual(2);
    expect(agent!.health.late).toBe(0);
  });

  it('wrong credentials: offline with auth_failed (not unreachable)', async (ctx) => {
    requireRtsp(ctx, sim);
    const s = await waitSample('wrong-pw', 0, () => true, 'a sample');
    expect(s.status).toBe('offline');
    expect(codes(s)).toEqual(['auth_failed']);
    expect(s.onvif).toMatchObject({ reachable: true, authFailed: true });
  });

  it('freeze-stream: degraded with stream_frozen and a stream-sourced video_loss start, then end on recovery', async (ctx) => {
    requireRtsp(ctx, sim);
    const since = Date.now();
    cams[0]!.setFault('freeze-stream');
    const bad = await waitSample('cam-0', since, (s) => codes(s).includes('stream_frozen'), 'stream_frozen');
    measured.frozenDetectedMs = Date.now() - since;
    expect(bad.status).toBe('degraded');
    expect(bad.stream).toMatchObject({ ok: true, frozen: true, black: false });
    // The encoder still sends packets at full rate: a frozen picture is not a dead stream.
    expect(Math.abs((bad.stream!.fps as number) - SIM_FPS)).toBeLessThan(1.5);
    const start = await collector.waitFor(
      () => streamEvents('cam-0').find((e) => e.type === 'video_loss' && e.state === 'start'),
      STAGE_MS,
      'video_loss start',
    );
    measured.videoLossEventMs = Date.now() - since;
    expect(start.source).toEqual({ kind: 'stream', topic: 'stream/frozen' });
    expect(start.data).toMatchObject({ reason: 'frozen' });
    await collector.waitFor(() => retainedStatus('cam-0')?.status === 'degraded', 5000, 'retained degraded');

    const cleared = Date.now();
    cams[0]!.setFault('none');
    await waitSample('cam-0', cleared, (s) => s.status === 'online', 'online again');
    measured.frozenRecoveryMs = Date.now() - cleared;
    const end = await collector.waitFor(
      () => streamEvents('cam-0').find((e) => e.type === 'video_loss' && e.state === 'end'),
      STAGE_MS,
      'video_loss end',
    );
    expect(Date.parse(end.at as string)).toBeGreaterThan(Date.parse(start.at as string));
    expect(retainedStatus('cam-0')).toMatchObject({ status: 'online' });
  });

  it('black-stream: stream_black and a tamper start/end from the stream', async (ctx) => {
    requireRtsp(ctx, sim);
    const since = Date.now();
    cams[1]!.setFault('black-stream');
    const bad = await waitSample('cam-1', since, (s) => codes(s).includes('stream_black'), 'stream_black');
    measured.blackDetectedMs = Date.now() - since;
    expect(bad.status).toBe('degraded');
    expect(codes(bad)).not.toContain('stream_frozen'); // black is reported as black, not also as frozen
    const start = await collector.waitFor(
      () => streamEvents('cam-1').find((e) => e.type === 'tamper' && e.state === 'start'),
      STAGE_MS,
      'tamper start',
    );
    expect(start.source).toEqual({ kind: 'stream', topic: 'stream/black' });
    expect(start.data).toMatchObject({ tamper: 'black' });
    const cleared = Date.now();
    cams[1]!.setFault('none');
    await waitSample('cam-1', cleared, (s) => s.status === 'online', 'online again');
    measured.blackRecoveryMs = Date.now() - cleared;
    await collector.waitFor(
      () => streamEvents('cam-1').find((e) => e.type === 'tamper' && e.state === 'end'),
      STAGE_MS,
      'tamper end',
    );
  });

  for (const mode of ['refuse', 'hang'] as const) {
    it(`${mode}: offline with unreachable, online again when it answers`, async (ctx) => {
      requireRtsp(ctx, sim);
      const since = Date.now();
      cams[2]!.setFault(mode);
      const bad = await waitSample('cam-2', since, (s) => s.status === 'offline', 'offline');
      measured[`${mode}DetectedMs`] = Date.now() - since;
      expect(codes(bad)[0]).toBe('unreachable');
      expect(bad.onvif.reachable).toBe(false);
      await collector.waitFor(() => retainedStatus('cam-2')?.status === 'offline', 5000, 'retained offline');
      const cleared = Date.now();
      cams[2]!.setFault('none');
      await waitSample('cam-2', cleared, (s) => s.status === 'online', 'online again');
      measured[`${mode}RecoveryMs`] = Date.now() - cleared;
      await collector.waitFor(() => retainedStatus('cam-2')?.status === 'online', 5000, 'retained online');
      // Stable: the next probes agree (no flapping while the event subscription is re-created).
      const settled = Date.now();
      await sleep(15_000);
      expect(samples('cam-2', settled).length).toBeGreaterThanOrEqual(2);
      expect(samples('cam-2', settled).every((s) => s.status === 'online')).toBe(true);
    });
  }

  it('clock-skew: clock_skew with the injected skew measured within 1 s, then recovery', async (ctx) => {
    requireRtsp(ctx, sim);
    const skewMs = 90_000;
    const since = Date.now();
    cams[2]!.setFault('clock-skew', { skewMs });
    const bad = await waitSample('cam-2', since, (s) => codes(s).includes('clock_skew'), 'clock_skew');
    expect(bad.status).toBe('degraded');
    const measuredSkew = bad.onvif.clockSkewMs as number;
    measured.clockSkewMs = measuredSkew;
    expect(Math.abs(measuredSkew - skewMs)).toBeLessThan(1000);
    expect(bad.problems.find((p) => p.code === 'clock_skew')!.message).toMatch(/90(\.\d)? s ahead/);
    const cleared = Date.now();
    cams[2]!.setFault('none');
    await waitSample('cam-2', cleared, (s) => s.status === 'online', 'online again');
    measured.clockSkewRecoveryMs = Date.now() - cleared;
  });

  it('leaves no ffmpeg process behind: bounded while running, none after stop', async (ctx) => {
    requireRtsp(ctx, sim);
    let peak = 0;
    for (let i = 0; i < 20; i++) {
      peak = Math.max(peak, ffmpegChildren().length);
      await new Promise((r) => setTimeout(r, 100));
    }
    measured.ffmpegPeakWhileRunning = peak;
    expect(peak).toBeLessThanOrEqual(2); // health.concurrency
    await agent!.stop();
    agent = null;
    expect(liveFfmpegCount()).toBe(0);
    expect(ffmpegChildren()).toEqual([]);
  });

  it('kills the whole ffmpeg process group of a probe whose RTSP server never answers', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s)); // accepts, never says a word
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const t0 = Date.now();
      const report = await probeStream(`rtsp://127.0.0.1:${port}/x`, { seconds: 2, timeoutMs: 1500 });
      measured.silentServerProbeMs = Date.now() - t0;
      expect(report.packets).toBe(0);
      expect(report.error).not.toBeNull();
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(liveFfmpegCount()).toBe(0);
      expect(ffmpegChildren()).toEqual([]);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});
