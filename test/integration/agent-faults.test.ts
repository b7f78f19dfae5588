import { freePortBlock } from '../support/processes.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector, sleep } from '../support/agent-harness.js';
import type { SimCamera, Simulator } from '@camhub/simulator';
import { uniqueToken, uniqueTopicRoot } from '../support/ids.js';
import { simCameras } from '../support/agent-config.js';
import { useSimSite } from '../support/hub-fixture.js';

// Every fault mode of the simulator, survived by the agent running in-process against real SOAP/HTTP and Mosquitto.
// Timings are shortened (pull 1 s, request timeout 1 s, backoff 0.1-1 s, renew every 2 s) so this runs in seconds;
// RECOVERY_BOUND_MS is what we promise for these timings: request timeout + pull + max backoff + slack.
const RECOVERY_BOUND_MS = 4000;
// A free block in this file's own band (test/support/processes.ts: freePortBlock).
const BASE_PORT = await freePortBlock(32, 22000);
const ROOT = uniqueTopicRoot();
const SITE = `flt-${uniqueToken()}`;

let sim: Simulator;
let collector: Collector;
let cam0: SimCamera;
let cam1: SimCamera;
const measured: Record<string, number> = {};

beforeAll(async () => {
  collector = await Collector.connect('mqtt://127.0.0.1:1883', ROOT);
});
afterAll(async () => {
  await collector?.close();
  console.log('agent fault recovery, ms (fault cleared → first event delivered):', JSON.stringify(measured));
});
const site = useSimSite({
  cameras: 2,
  basePort: BASE_PORT,
  rtsp: false,
  agent: (sim) => ({
    site: SITE,
    mqtt: { url: 'mqtt://127.0.0.1:1883', topicRoot: ROOT },
    onvif: { requestTimeoutMs: 1000, leaseSec: 10, renewSec: 2, clockCheckSec: 60 },
    cameras: simCameras(sim.cameras, () => ({ snapshot: 'off' })),
  }),
});
beforeAll(async () => {
  ({ sim } = site);
  [cam0, cam1] = sim.cameras as [SimCamera, SimCamera];
  await collector.waitFor(() => sim.cameras.every((c) => c.stats().activeSubscriptions === 1), 10_000, 'subscriptions');
});

let marker = 0;
/** Emits a uniquely marked line-crossing pulse on `cam` and returns when it was delivered (or null on timeout). */
async function deliveredWithin(
  cam: SimCamera,
  camera: string,
  timeoutMs: number,
): Promise<Record<string, unknown> | null> {
  const id = String(++marker);
  cam.emit('tns1:RuleEngine/LineDetector/Crossed', { ObjectId: id });
  try {
    return await collector.waitFor(
      () => collector.events(camera).find((e) => (e.data as Record<string, unknown> | undefined)?.ObjectId === id),
      timeoutMs,
      `pulse ${id}`,
    );
  } catch {
    return null;
  }
}

/** Time from `since` until a fresh pulse on cam-0 is delivered, retrying every 250 ms (events during the fault may be lost with the subscription). */
async function recoveryTime(since: number): Promise<number> {
  const end = since + RECOVERY_BOUND_MS * 2;
  while (Date.now() < end) {
    const got = await deliveredWithin(cam0, 'cam-0', 250);
    if (got) return Date.now() - since;
  }
  throw new Error('cam-0 events did not resume');
}

function expectNoLeak(): void {
  for (const cam of sim.cameras) expect(cam.stats().activeSubscriptions).toBeLessThanOrEqual(1);
}

describe('edge agent survives camera faults', () => {
  it('hang: the other camera is not delayed; events resume after the camera answers again', async () => {
    cam0.setFault('hang');
    await sleep(1500); // cam-0's pull is now stuck until its deadline
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      expect(await deliveredWithin(cam1, 'cam-1', 1500)).not.toBeNull();
      latencies.push(Date.now() - t0);
    }
    measured.otherCameraLatencyDuringHangMaxMs = Math.max(...latencies);
    expect(Math.max(...latencies)).toBeLessThan(1000);
    await sleep(2000);
    const created = cam0.stats().subscriptionsCreated;
    const cleared = Date.now();
    cam0.setFault('none');
    measured.hang = await recoveryTime(cleared);
    expect(measured.hang).toBeLessThan(RECOVERY_BOUND_MS);
    // A timeout is not a fault: the subscription is kept.
    expect(cam0.stats().subscriptionsCreated - created).toBeLessThanOrEqual(1);
    expectNoLeak();
  });

  it('refuse: connection refused for 2 s, then events resume', async () => {
    cam0.setFault('refuse', { durationMs: 2000 });
    const cleared = Date.now() + 2000;
    await sleep(2000);
    measured.refuse = await recoveryTime(cleared);
    expect(measured.refuse).toBeLessThan(RECOVERY_BOUND_MS);
    expectNoLeak();
  });

  it('reboot: subscriptions lost, clock jumps; the agent re-subscribes once', async () => {
    const before = cam0.stats();
    cam0.setFault('reboot', { durationMs: 2000, skewMs: 90_000 });
    const cleared = Date.now() + 2000;
    await sleep(2000);
    measured.reboot = await recoveryTime(cleared);
    expect(measured.reboot).toBeLessThan(RECOVERY_BOUND_MS);
    const after = cam0.stats();
    expect(after.reboots).toBe(before.reboots + 1);
    expect(after.subscriptionsCreated - before.subscriptionsCreated).toBeLessThanOrEqual(2);
    expectNoLeak();
    // The camera came back 90 s ahead: event times are still on our clock.
    const got = await deliveredWithin(cam0, 'cam-0', 3000);
    expect(Math.abs(Date.parse(got!.at as string) - Date.now())).toBeLessThan(2000);
  });

  it('clock-skew: the 2 h jump is absorbed (CurrentTime / re-measure); `at` is corrected by the skew', async () => {
    const before = cam0.stats();
    const cleared = Date.now();
    cam0.setFault('clock-skew', { skewMs: 2 * 3_600_000 });
    measured.clockSkew = await recoveryTime(cleared);
    expect(measured.clockSkew).toBeLessThan(RECOVERY_BOUND_MS);
    // The pull response's CurrentTime reveals the jump before our next request is signed, so at most one request
    // is refused (then NotAuthorized → GetSystemDateAndTime → re-subscribe).
    measured.clockSkewAuthFailures = cam0.stats().authFailures - before.authFailures;
    expect(measured.clockSkewAuthFailures).toBeLessThanOrEqual(2);
    const sent = Date.now();
    const got = await deliveredWithin(cam0, 'cam-0', 3000);
    const at = Date.parse(got!.at as string);
    measured.clockSkewAtErrorMs = at - sent;
    // The camera stamps it 2 h ahead; corrected to within a second of when it happened.
    expect(Math.abs(at - sent)).toBeLessThan(1000);
    cam0.setFault('none');
    measured.clockBack = await recoveryTime(Date.now());
    expectNoLeak();
  });

  it('no-termination-time: no re-create storm, events keep flowing', async () => {
    const before = cam0.stats();
    cam0.setFault('no-termination-time');
    for (let i = 0; i < 4; i++) expect(await deliveredWithin(cam0, 'cam-0', 2000)).not.toBeNull();
    await sleep(3000);
    const after = cam0.stats();
    cam0.setFault('none');
    expect(after.pullCalls - before.pullCalls).toBeGreaterThan(3);
    expect(after.subscriptionsCreated - before.subscriptionsCreated).toBe(0);
    measured.noTerminationPulls = after.pullCalls - before.pullCalls;
    expectNoLeak();
  });

  it('fault-on-renew: re-created on each refused renew (at most one per renew period), never leaked', async () => {
    const before = cam0.stats();
    cam0.setFault('fault-on-renew');
    const start = Date.now();
    await sleep(6000);
    for (let i = 0; i < 3; i++) expect(await deliveredWithin(cam0, 'cam-0', 3000)).not.toBeNull();
    const after = cam0.stats();
    const elapsedSec = (Date.now() - start) / 1000;
    cam0.setFault('none');
    const created = after.subscriptionsCreated - before.subscriptionsCreated;
    measured.faultOnRenewCreated = created;
    expect(after.renewCalls).toBeGreaterThan(before.renewCalls);
    expect(created).toBeGreaterThanOrEqual(1);
    // renewSec is 2 s: at most one re-create per renew period.
    expect(created).toBeLessThanOrEqual(Math.ceil(elapsedSec / 2) + 1);
    expectNoLeak();
    const settled = cam0.stats().subscriptionsCreated;
    await sleep(4500);
    expect(cam0.stats().subscriptionsCreated).toBe(settled);
  });

  it('after all of it: one subscription per camera, and the healthy camera was never re-subscribed', () => {
    expect(cam0.stats().activeSubscriptions).toBe(1);
    expect(cam1.stats().activeSubscriptions).toBe(1);
    expect(cam1.stats().subscriptionsCreated).toBe(1);
  });
});
