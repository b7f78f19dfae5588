import { freePortBlock } from '../support/processes.js';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../edge-agent/src/agent.js';
import { Collector, startMediaReceiver } from '../support/agent-harness.js';
import type { Simulator } from '@camhub/simulator';
import { uniqueToken, uniqueTopicRoot } from '../support/ids.js';
import { simCameras } from '../support/agent-config.js';
import { useSimSite } from '../support/hub-fixture.js';

// The agent in-process against the real simulator (SOAP over HTTP) and the real Mosquitto on 1883.
// A free block in this file's own band (test/support/processes.ts: freePortBlock).
const BASE_PORT = await freePortBlock(32, 21000);
const ROOT = uniqueTopicRoot();
const SITE = `ev-${uniqueToken()}`;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let sim: Simulator;
let agent: Agent;
let collector: Collector;
let receiver: Awaited<ReturnType<typeof startMediaReceiver>>;
let dataDir: string;

beforeAll(async () => {
  receiver = await startMediaReceiver();
  collector = await Collector.connect('mqtt://127.0.0.1:1883', ROOT);
});
afterAll(async () => {
  await collector?.close();
  await receiver?.close();
});
const site = useSimSite({
  cameras: 2,
  basePort: BASE_PORT,
  rtsp: false,
  agent: (sim) => ({
    site: SITE,
    mqtt: { url: 'mqtt://127.0.0.1:1883', topicRoot: ROOT },
    hub: { url: receiver.url, token: 'site-token-123' },
    motionTimeoutSec: 3,
    // The simulator runs without RTSP here and says so in GetCapabilities: the stream probe must not call that broken.
    health: { intervalSec: 2 },
    cameras: simCameras(sim.cameras),
  }),
});
beforeAll(async () => {
  ({ sim, agent, dataDir } = site);
  // Subscribed on both cameras before any test triggers anything.
  await collector.waitFor(() => sim.cameras.every((c) => c.stats().activeSubscriptions === 1), 10_000, 'subscriptions');
});

const eventsOf = (camera: string) => collector.events(camera);

describe('edge agent against the simulator: events', () => {
  it('publishes the retained agent status (online, camera count, version)', async () => {
    const status = await collector.waitFor(
      () => collector.messages.find((m) => m.topic === `${ROOT}/${SITE}/agent`),
      5000,
      'agent status',
    );
    expect(status.payload).toMatchObject({ v: 1, site: SITE, state: 'online', cameras: 2, version: '0.1.0' });
  });

  it('turns CellMotionDetector and MotionAlarm motion into start/end with the right times, ids and seq', async () => {
    for (const [index, cam] of sim.cameras.entries()) {
      const before = Date.now();
      cam.setMotion(true);
      const start = await collector.waitFor(
        () => eventsOf(`cam-${index}`).find((e) => e.type === 'motion' && e.state === 'start'),
        5000,
        'motion start',
      );
      cam.setMotion(false);
      const end = await collector.waitFor(
        () => eventsOf(`cam-${index}`).find((e) => e.type === 'motion' && e.state === 'end'),
        5000,
        'motion end',
      );
      const after = Date.now();
      expect(start.id).toMatch(UUID_V7);
      expect(end.id).not.toBe(start.id);
      expect(end.seq).toBe((start.seq as number) + 1);
      expect(start.source).toEqual({
        kind: 'onvif',
        topic: index === 0 ? 'tns1:RuleEngine/CellMotionDetector/Motion' : 'tns1:VideoSource/MotionAlarm',
      });
      // Camera time corrected by the measured offset: within a second of when it really happened.
      const startAt = Date.parse(start.at as string);
      expect(startAt).toBeGreaterThan(before - 1000);
      expect(startAt).toBeLessThan(after + 1000);
      expect(Date.parse(end.at as string)).toBeGreaterThanOrEqual(startAt - 1000);
      expect(end.data).not.toHaveProperty('reason');
    }
  });

  it('attaches a snapshot to a start and uploads the JPEG to the hub with the site token', async () => {
    const start = eventsOf('cam-0').find((e) => e.state === 'start')!;
    expect(start.snapshot).toMatch(/^sha256:[0-9a-f]{64}$/);
    const upload = await collector.waitFor(
      () => receiver.uploads.find((u) => u.ref === start.snapshot),
      10_000,
      'snapshot upload',
    );
    expect(upload).toMatchObject({ authorization: 'Bearer site-token-123', contentType: 'image/jpeg' });
    expect(upload.sha256).toBe(start.snapshot);
    // Nothing but events' end carries no snapshot.
    expect(eventsOf('cam-0').find((e) => e.state === 'end')!.snapshot).toBeUndefined();
  });

  it('ends a motion whose false never comes after motionTimeoutSec, with reason timeout', async () => {
    const cam = sim.cameras[1]!;
    const seen = eventsOf('cam-1').length;
    cam.setMotion(true);
    const started = Date.now();
    const end = await collector.waitFor(
      () =>
        eventsOf('cam-1')
          .slice(seen)
          .find((e) => e.state === 'end'),
      8000,
      'timeout end',
    );
    expect(end.data).toMatchObject({ reason: 'timeout' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2500);
    // The camera's real false later does not produce a second end.
    cam.setMotion(false);
    await new Promise((r) => setTimeout(r, 1500));
    expect(
      eventsOf('cam-1')
        .slice(seen)
        .filter((e) => e.state === 'end'),
    ).toHaveLength(1);
  });

  it('normalises vendor topics, "1" values and bogus dates (receive time is used)', async () => {
    const cam = sim.cameras[0]!;
    const seen = eventsOf('cam-0').length;
    const before = Date.now();
    cam.emit('tns1:VideoSource/ImageTooBlurry/AnalyticsService', { State: '1' }, { utcTime: '0000-00-00T00:00:00Z' });
    cam.emit('tns1:RuleEngine/LineDetector/Crossed', { ObjectId: '12' });
    cam.emit('tns1:Vendor/Frobnicator', { Level: '3', Mode: 'x' });
    const got = await collector.waitFor(
      () => {
        const list = eventsOf('cam-0').slice(seen);
        return list.length >= 3 ? list : undefined;
      },
      5000,
      'vendor events',
    );
    expect(got.map((e) => [e.type, e.state])).toEqual([
      ['tamper', 'start'],
      ['line_crossing', 'pulse'],
      ['other', 'pulse'],
    ]);
    expect(got[0]!.data).toMatchObject({ tamper: 'blurry' });
    expect(Math.abs(Date.parse(got[0]!.at as string) - before)).toBeLessThan(2000);
    expect(got[2]!.source).toEqual({ kind: 'onvif', topic: 'tns1:Vendor/Frobnicator' });
    // seq counts up by one per event.
    const seqs = eventsOf('cam-0').map((e) => e.seq as number);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
  });

  it('publishes health samples and a retained camera status', async () => {
    // A sample taken once connected (the first may precede the ONVIF connect, when nothing is known of the stream).
    const health = await collector.waitFor(
      () =>
        collector.messages.find(
          (m) =>
            m.topic === `${ROOT}/${SITE}/cameras/cam-0/health` &&
            (m.payload as { onvif?: { eventsSubscribed?: boolean } }).onvif?.eventsSubscribed === true,
        ),
      8000,
      'health once subscribed',
    );
    expect(health.payload).toMatchObject({ status: 'online', onvif: { reachable: true, eventsSubscribed: true } });
    // The device declared no RTSP streaming: no stream probe, so no stream_unavailable on a camera that has none.
    expect(health.payload).toMatchObject({ problems: [], stream: null });
    await collector.waitFor(
      () => collector.messages.find((m) => m.topic === `${ROOT}/${SITE}/cameras/cam-1/status`),
      5000,
      'status',
    );
  });

  it('keeps one subscription per camera and unsubscribes on stop', async () => {
    for (const cam of sim.cameras) expect(cam.stats().activeSubscriptions).toBe(1);
    const outboxDir = join(dataDir, 'outbox');
    expect(outboxDir).toContain(dataDir);
    await agent.stop();
    for (const cam of sim.cameras) {
      expect(cam.stats().activeSubscriptions).toBe(0);
      expect(cam.stats().subscriptionsCreated).toBe(1);
    }
    const offline = await collector.waitFor(
      () => collector.messages.find((m) => m.topic === `${ROOT}/${SITE}/agent` && m.payload.state === 'offline'),
      5000,
      'offline status',
    );
    expect(offline.payload).toMatchObject({ site: SITE, cameras: 2 });
  });
});
