import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startSimulator, type Simulator } from '@camhub/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AgentProcess,
  Collector,
  type MediaUpload,
  sleep,
  startMediaReceiver,
  tempDir,
} from '../support/agent-harness.js';
import { LinkProxy } from '../../scripts/demo/link-proxy.js';
import { simCameras, testAgentConfig } from '../support/agent-config.js';
import { onPath, requireDependency, requireRtsp } from '../support/dependencies.js';
import { uniqueToken, uniqueTopicRoot } from '../support/ids.js';
import { freePortBlock } from '../support/processes.js';

// Event clips end to end at the edge: the simulator's real RTSP (GStreamer), the agent as operators run it (a child
// process, so that it can be SIGKILLed), real ffmpeg, real Mosquitto for the clip links (through a TCP relay that can
// be cut), and an HTTP receiver standing in for the hub's upload endpoint (closed and reopened for the uplink cut).
const run = promisify(execFile);
const BASE_PORT = await freePortBlock(16, 30000);
const ROOT = uniqueTopicRoot();
const SITE = `cl-${uniqueToken().slice(0, 8)}`;
const PRE = 4;
const POST = 4;
const BUDGET = 300_000;
/** The uplink cut: a minute without the hub, MQTT and HTTP alike, starting while a clip is being recorded. */
const CUT_MS = 60_000;

let sim: Simulator;
let collector: Collector;
let receiver: Awaited<ReturnType<typeof startMediaReceiver>>;
/** The agent's MQTT connection goes through it: `cut()` is the site's uplink failing. */
let uplink: LinkProxy;
const uploads: MediaUpload[] = [];
let dataDir: string;
let configFile: string;
let agent: AgentProcess;
const bufferSizes: number[] = [];
let sampler: NodeJS.Timeout | null = null;
/** The budget is the running agent's: between a SIGKILL and the restart nobody trims (the restart clears it). */
let sampling = true;

const bufferDir = () => join(dataDir, 'clips', 'cam-0', 'buffer');
const links = () =>
  collector.messages.filter((m) => m.topic === `${ROOT}/${SITE}/cameras/cam-0/clips`).map((m) => ({ ...m }));

async function probe(bytes: Buffer): Promise<{ duration: number; codec: string; boxes: string[] }> {
  const file = join(dataDir, `probe-${uniqueToken()}.mp4`);
  writeFileSync(file, bytes);
  try {
    const { stdout } = await run(
      'ffprobe',
      ['-v', 'error', '-show_entries', 'format=duration:stream=codec_name', '-of', 'json', file],
      { timeout: 20_000 },
    );
    const out = JSON.parse(stdout) as { format: { duration: string }; streams: Array<{ codec_name: string }> };
    return { duration: Number(out.format.duration), codec: out.streams[0]!.codec_name, boxes: topLevelBoxes(bytes) };
  } finally {
    rmSync(file, { force: true });
  }
}

/** The MP4's top-level box types in order: faststart puts `moov` before `mdat`. */
function topLevelBoxes(bytes: Buffer): string[] {
  const boxes: string[] = [];
  for (let at = 0; at + 8 <= bytes.length;) {
    const size = bytes.readUInt32BE(at);
    boxes.push(bytes.toString('latin1', at + 4, at + 8));
    if (size < 8) break;
    at += size;
  }
  return boxes;
}

/** Motion on and off at once: the clip is then pre-roll + the event's few hundred ms + post-roll. */
async function motion(): Promise<{ start: Record<string, unknown>; end: Record<string, unknown> }> {
  const known = new Set(collector.events('cam-0').map((e) => e.id));
  const fresh = (state: string) => collector.events('cam-0').find((e) => !known.has(e.id) && e.state === state);
  sim.cameras[0]!.setMotion(true);
  const start = await collector.waitFor(() => fresh('start'), 10_000, 'motion start');
  sim.cameras[0]!.setMotion(false);
  const end = await collector.waitFor(() => fresh('end'), 10_000, 'motion end');
  return { start, end };
}

function startAgent(): AgentProcess {
  agent = new AgentProcess(configFile);
  return agent;
}

beforeAll(async () => {
  sim = await startSimulator({ cameras: 1, basePort: BASE_PORT, rtsp: { port: 0 }, discovery: false });
  receiver = await startMediaReceiver(0, uploads);
  collector = await Collector.connect('mqtt://127.0.0.1:1883', ROOT);
  uplink = await LinkProxy.start('127.0.0.1', 1883);
  dataDir = tempDir('agent-clips-');
  configFile = join(dataDir, 'agent.json');
  writeFileSync(
    configFile,
    JSON.stringify(
      testAgentConfig({
        site: SITE,
        mqtt: { url: `mqtt://127.0.0.1:${uplink.port}`, topicRoot: ROOT },
        hub: { url: receiver.url, token: 'site-token-clips' },
        dataDir: join(dataDir, 'data'),
        motionTimeoutSec: 30,
        health: { intervalSec: 30, stream: false },
        cameras: simCameras(sim.cameras, () => ({
          name: 'Gate',
          snapshot: 'off',
          clips: { preSec: PRE, postSec: POST, maxSec: 30, bufferBytes: BUDGET },
        })),
      }),
    ),
  );
  dataDir = join(dataDir, 'data');
  if (!sim.rtspAvailable) return;
  startAgent();
  await agent.waitForLog((l) => l.msg === 'clip buffer recording', 30_000);
  sampler = setInterval(() => {
    if (!sampling) return;
    let total = 0;
    for (const name of existsSync(bufferDir()) ? readdirSync(bufferDir()) : []) {
      try {
        total += statSync(join(bufferDir(), name)).size;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    bufferSizes.push(total);
  }, 100);
  // A pre-roll's worth of buffer before the first event, counted from the first segment on disk (ffmpeg's start,
  // its connection to the camera and its first keyframe take seconds of their own on a busy machine).
  await collector.waitFor(
    () => existsSync(bufferDir()) && readdirSync(bufferDir()).some((n) => n.endsWith('.ts')),
    30_000,
    'the first buffer segment',
  );
  await sleep((PRE + 3) * 1000);
}, 90_000);

afterAll(async () => {
  if (sampler) clearInterval(sampler);
  await agent?.kill('SIGTERM');
  await collector?.close();
  await uplink?.close();
  await receiver?.close();
  await sim?.close();
});

describe('event clips at the edge agent', () => {
  it('cuts pre-roll + post-roll around a motion event into one faststart MP4, links it, and uploads it', async (ctx) => {
    requireRtsp(ctx, sim);
    requireDependency(ctx, onPath('ffprobe'), 'ffprobe', 'apt-get install ffmpeg');
    const { start, end } = await motion();
    const link = await collector.waitFor(
      () => links().find((l) => l.payload.event === start.id),
      (PRE + POST + 20) * 1000,
      'clip link',
    );
    expect(link.payload).toMatchObject({ v: 1, site: SITE, camera: 'cam-0', event: start.id });
    const upload = await collector.waitFor(
      () => uploads.find((u) => u.ref === link.payload.clip),
      20_000,
      'clip upload',
    );
    expect(upload).toMatchObject({ kind: 'clips', contentType: 'video/mp4', sha256: link.payload.clip });
    expect(upload.authorization).toBe('Bearer site-token-clips');
    expect(link.payload.bytes).toBe(upload.bytes);

    const clip = await probe(upload.body!);
    expect(clip.codec).toBe('h264');
    expect(clip.boxes.indexOf('moov')).toBeLessThan(clip.boxes.indexOf('mdat'));
    const startAt = Date.parse(start.at as string);
    const eventSec = (Date.parse(end.at as string) - startAt) / 1000;
    expect(eventSec).toBeLessThan(2);
    // pre + post (+ the event itself, a fraction of a second here) within a second: cuts fall on keyframes.
    expect(Math.abs(clip.duration - (PRE + eventSec + POST))).toBeLessThanOrEqual(1);
    expect(Math.abs((link.payload.durationMs as number) / 1000 - clip.duration)).toBeLessThanOrEqual(0.5);
    // The first frame is from before the event. The stream is live (it cannot run ahead of the clock), so a clip
    // holding `duration` seconds of video whose link arrived at `receivedAt` began at the latest `duration` seconds
    // before that: read from the MP4 itself (ffprobe), not from what the agent claims.
    expect(link.receivedAt - clip.duration * 1000).toBeLessThan(startAt);
    // And what the agent claims agrees: the clip starts about preSec before the event.
    const claimedPre = (startAt - Date.parse(link.payload.startAt as string)) / 1000;
    expect(claimedPre).toBeGreaterThan(PRE - 1.1);
    expect(claimedPre).toBeLessThan(PRE + 1.1);
  }, 60_000);

  it('keeps a clip through a 60 s uplink cut that starts during it, and delivers link and file afterwards', async (ctx) => {
    requireRtsp(ctx, sim);
    const port = receiver.port;
    const known = new Set(collector.events('cam-0').map((e) => e.id));
    sim.cameras[0]!.setMotion(true);
    const start = await collector.waitFor(
      () => collector.events('cam-0').find((e) => !known.has(e.id) && e.state === 'start'),
      10_000,
      'motion start',
    );
    // The site's uplink fails while the clip is being recorded (its pre-roll taken, its event still on): the broker
    // and the hub are both out of reach.
    uplink.cut();
    await receiver.close();
    const cutAt = Date.now();
    sim.cameras[0]!.setMotion(false);
    // The agent finishes the clip on its own and keeps it (its link in the outbox, its file in the media queue).
    await agent.waitForLog((l) => l.msg === 'clip stored' && l.event === start.id, (POST + 20) * 1000);
    const stored = agent.logs().find((l) => l.msg === 'clip stored' && l.event === start.id)!;
    await sleep(Math.max(0, CUT_MS - (Date.now() - cutAt)));
    expect(links().some((l) => l.payload.event === start.id)).toBe(false);
    expect(uploads.some((u) => u.ref === stored.ref)).toBe(false);
    const failures = agent.logs().filter((l) => l.msg === 'clip upload failed' && l.ref === stored.ref).length;
    expect(failures).toBeGreaterThan(1);
    console.log(`uplink cut ${Date.now() - cutAt} ms; ${failures} failed upload attempts meanwhile`);

    uplink.restore();
    receiver = await startMediaReceiver(port, uploads);
    const back = Date.now();
    const link = await collector.waitFor(
      () => links().find((l) => l.payload.event === start.id),
      30_000,
      'clip link after the cut',
    );
    expect(link.payload.clip).toBe(stored.ref);
    // The upload's backoff reaches its 60 s ceiling during a cut this long; the reconnection wakes the queue, so the
    // file follows the link instead of waiting out that minute.
    const upload = await collector.waitFor(
      () => uploads.find((u) => u.ref === link.payload.clip),
      20_000,
      'clip upload after the cut',
    );
    expect(upload.sha256).toBe(link.payload.clip);
    expect(upload.bytes).toBe(stored.bytes);
    console.log(`after the cut: link and clip delivered within ${Date.now() - back} ms`);
  }, 200_000);

  it('never uploads a partial clip when SIGKILLed while cutting, and cuts again after a restart', async (ctx) => {
    requireRtsp(ctx, sim);
    requireDependency(ctx, onPath('ffprobe'), 'ffprobe', 'apt-get install ffmpeg');
    const cutting = agent.logs().filter((l) => l.msg === 'clip cutting').length;
    await motion();
    await agent.waitForLog(
      () => agent.logs().filter((l) => l.msg === 'clip cutting').length > cutting,
      (PRE + POST + 20) * 1000,
    );
    sampling = false;
    await agent.kill('SIGKILL');
    const leftover = Number(readFileSync(join(dataDir, 'clips', 'cam-0', 'recorder.pid'), 'utf8'));
    startAgent();
    await agent.waitForLog((l) => l.msg === 'clip buffer recording', 30_000);
    sampling = true;
    // The buffer ffmpeg the killed agent left behind (its own process group) was found and ended.
    await collector.waitFor(() => !existsSync(`/proc/${leftover}`), 5000, 'leftover ffmpeg gone');
    expect(readdirSync(join(dataDir, 'media')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await sleep((PRE + 2) * 1000);
    const { start } = await motion();
    const link = await collector.waitFor(
      () => links().find((l) => l.payload.event === start.id),
      (PRE + POST + 20) * 1000,
      'clip link after the restart',
    );
    await collector.waitFor(() => uploads.find((u) => u.ref === link.payload.clip), 20_000, 'upload');
    // Every clip that ever reached the hub is whole: its bytes match its name, and it plays to its end.
    for (const u of uploads.filter((x) => x.kind === 'clips')) {
      expect(u.sha256).toBe(u.ref);
      const clip = await probe(u.body!);
      expect(clip.duration).toBeGreaterThan(PRE);
      expect(clip.boxes).toContain('moov');
    }
  }, 120_000);

  it('holds the rolling buffer within its byte budget', (ctx) => {
    requireRtsp(ctx, sim);
    expect(bufferSizes.length).toBeGreaterThan(100);
    const max = Math.max(...bufferSizes);
    expect(max).toBeLessThanOrEqual(BUDGET);
    // And it held at least a pre-roll's worth of this stream, at the rate the clips cut from it show (a still scene
    // on a quiet machine is a fraction of the nominal bitrate, so no fixed share of the budget is a fair floor; the
    // order in which the budget drops segments is in edge-agent/src/media/clip-plan.spec.ts).
    const clips = links().map((l) => l.payload as { bytes: number; durationMs: number });
    expect(clips.length).toBeGreaterThan(0);
    const bytesPerSec = clips.reduce((n, c) => n + c.bytes, 0) / (clips.reduce((n, c) => n + c.durationMs, 0) / 1000);
    expect(max).toBeGreaterThanOrEqual(bytesPerSec * PRE);
  });
});
