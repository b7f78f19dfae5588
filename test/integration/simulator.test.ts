import { execFile } from 'node:child_process';
import { freePortBlock } from '../support/processes.js';
import { requireRtsp } from '../support/dependencies.js';
import { promisify } from 'node:util';
import onvif from 'onvif';
import onvifPromises from 'onvif/promises/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimCamera, type Simulator } from '@camhub/simulator';
import { digestFetch, notificationsOf, soapCall, type SoapCallOptions } from '@camhub/simulator/soap-client';
import { child, text } from '@camhub/simulator/xml';

const run = promisify(execFile);

// Ports of their own per file (20000-40000), so integration files can run in parallel.
// A free block in this file's own band (test/support/processes.ts: freePortBlock).
const BASE_PORT = await freePortBlock(32, 20000);
const CAMERA_COUNT = 4;

let sim: Simulator;
let cam0: SimCamera;
let cam1: SimCamera;

function credentials(camera: SimCamera): SoapCallOptions {
  return { username: camera.username, password: camera.password };
}

function url(camera: SimCamera, path: string): string {
  return `http://${camera.host}:${camera.port}${path}`;
}

async function createPullPoint(
  camera: SimCamera,
  termination = 'PT60S',
  options: SoapCallOptions = {},
): Promise<string> {
  const result = await soapCall(
    url(camera, '/onvif/events_service'),
    `<tev:CreatePullPointSubscription><tev:InitialTerminationTime>${termination}</tev:InitialTerminationTime></tev:CreatePullPointSubscription>`,
    { ...credentials(camera), ...options },
  );
  expect(result.action).toBe('CreatePullPointSubscriptionResponse');
  const address = text(child(child(result.response, 'SubscriptionReference'), 'Address'));
  expect(address).toMatch(/\/onvif\/subscription\//);
  return address!;
}

function pull(camera: SimCamera, address: string, timeout: string, limit = 100, options: SoapCallOptions = {}) {
  return soapCall(
    address,
    `<tev:PullMessages><tev:Timeout>${timeout}</tev:Timeout><tev:MessageLimit>${limit}</tev:MessageLimit></tev:PullMessages>`,
    { ...credentials(camera), timeoutMs: 30_000, ...options },
  );
}

async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function connectOnvif(camera: SimCamera, overrides: Record<string, unknown> = {}) {
  const cam = new onvifPromises.Cam({
    hostname: camera.host,
    port: camera.port,
    username: camera.username,
    password: camera.password,
    timeout: 5_000,
    ...overrides,
  });
  return { cam, connected: cam.connect() as Promise<unknown> };
}

async function connectionRefused(camera: SimCamera): Promise<boolean> {
  try {
    await fetch(url(camera, '/onvif/device_service'), { method: 'POST', signal: AbortSignal.timeout(2_000) });
    return false;
  } catch (error) {
    return ((error as Error & { cause?: { code?: string } }).cause?.code ?? '') === 'ECONNREFUSED';
  }
}

beforeAll(async () => {
  sim = await startSimulator({ cameras: CAMERA_COUNT, basePort: BASE_PORT, rtsp: { port: 0 } });
  [cam0, cam1] = sim.cameras as [SimCamera, SimCamera];
});

afterAll(async () => {
  await sim?.close();
});

describe('ONVIF device and media services through the onvif package', () => {
  it('connects with the right credentials and reads device information, stream and snapshot URIs', async () => {
    const { cam, connected } = connectOnvif(cam0);
    await connected;
    const info = (await cam.getDeviceInformation()) as { manufacturer: string; hardwareId: string };
    expect(info.manufacturer).toBe('camhub');
    expect(info.hardwareId).toBe(cam0.id);
    if (sim.rtspAvailable) {
      const stream = (await cam.getStreamUri()) as { uri: string };
      expect(stream.uri).toBe(cam0.rtspUrl);
    } else {
      await expect(cam.getStreamUri()).rejects.toThrow(/RTSP streaming is not available/);
    }
    const snapshot = (await cam.getSnapshotUri()) as { uri: string };
    expect(snapshot.uri).toBe(cam0.snapshotUrl);
  });

  it('connects over HTTP Digest when WS-Security is off', async () => {
    const { connected } = connectOnvif(cam1, { useWSSecurity: false });
    await expect(connected).resolves.toBeUndefined();
  });

  it('refuses wrong passwords (WS-Security and Digest) and counts the failures', async () => {
    const before = cam0.stats().authFailures;
    await expect(connectOnvif(cam0, { password: 'wrong' }).connected).rejects.toThrow(
      /not Authorized|ONVIF SOAP Fault/i,
    );
    await expect(connectOnvif(cam0, { password: 'wrong', useWSSecurity: false }).connected).rejects.toThrow(
      /Digest authentication failed/,
    );
    expect(cam0.stats().authFailures).toBeGreaterThan(before);
  });

  it('answers GetSystemDateAndTime without credentials but nothing else', async () => {
    const date = await soapCall(url(cam0, '/onvif/device_service'), '<tds:GetSystemDateAndTime/>');
    expect(date.action).toBe('GetSystemDateAndTimeResponse');
    const info = await soapCall(url(cam0, '/onvif/device_service'), '<tds:GetDeviceInformation/>');
    expect(info.status).toBe(401);
  });

  it('answers unknown actions with an ActionNotSupported SOAP fault', async () => {
    const result = await soapCall(url(cam0, '/onvif/device_service'), '<tds:GetZeroConfiguration/>', credentials(cam0));
    expect(result.status).toBe(500);
    expect(result.faultSubcodes).toEqual(['ter:ActionNotSupported']);
  });

  it('serves a Digest-protected JPEG snapshot', async () => {
    const anonymous = await fetch(cam0.snapshotUrl);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Digest /);
    const wrong = await digestFetch(cam0.snapshotUrl, { username: 'admin', password: 'nope' });
    expect(wrong.status).toBe(401);
    const response = await digestFetch(cam0.snapshotUrl, cam0);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    const jpeg = Buffer.from(await response.arrayBuffer());
    expect(jpeg.subarray(0, 2).toString('hex')).toBe('ffd8');
    expect(jpeg.subarray(-2).toString('hex')).toBe('ffd9');
  });
});

describe('PullPoint events', () => {
  it('delivers motion start and end on the cell-motion camera, returning a waiting pull early', async () => {
    const address = await createPullPoint(cam0);
    const started = Date.now();
    const waiting = pull(cam0, address, 'PT20S');
    setTimeout(() => cam0.setMotion(true), 300);
    const first = await waiting;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(notificationsOf(first.response)).toMatchObject([
      {
        topic: 'tns1:RuleEngine/CellMotionDetector/Motion',
        propertyOperation: 'Changed',
        data: { IsMotion: 'true' },
        source: { VideoSourceConfigurationToken: 'vsc_1', Rule: 'MyMotionDetectorRule' },
      },
    ]);
    expect(text(child(first.response, 'CurrentTime'))).toBeTruthy();
    expect(text(child(first.response, 'TerminationTime'))).toBeTruthy();
    cam0.setMotion(false);
    const second = await pull(cam0, address, 'PT5S');
    expect(notificationsOf(second.response)).toMatchObject([{ data: { IsMotion: 'false' } }]);
  });

  it('uses the MotionAlarm vendor shape on camera 1', async () => {
    const address = await createPullPoint(cam1);
    cam1.setMotion(true);
    const result = await pull(cam1, address, 'PT5S');
    expect(notificationsOf(result.response)).toMatchObject([
      { topic: 'tns1:VideoSource/MotionAlarm', data: { State: 'true' }, source: { Source: 'video_src_1' } },
    ]);
  });

  it('waits out the Timeout when nothing happens, and honours MessageLimit', async () => {
    const address = await createPullPoint(cam0);
    const started = Date.now();
    const empty = await pull(cam0, address, 'PT1S');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(notificationsOf(empty.response)).toEqual([]);
    for (let i = 0; i < 5; i += 1) cam0.emit('tns1:Custom/Thing', { Count: String(i) }, { source: { Token: 'x' } });
    const limited = await pull(cam0, address, 'PT1S', 2);
    expect(notificationsOf(limited.response).map((n) => n.data.Count)).toEqual(['0', '1']);
    const rest = await pull(cam0, address, 'PT1S', 10);
    expect(notificationsOf(rest.response).map((n) => n.data.Count)).toEqual(['2', '3', '4']);
  });

  it('queues every property state as Initialized on SetSynchronizationPoint', async () => {
    const address = await createPullPoint(cam0);
    cam0.setTamper(true);
    await pull(cam0, address, 'PT1S');
    await soapCall(address, '<tev:SetSynchronizationPoint/>', credentials(cam0));
    const result = await pull(cam0, address, 'PT1S');
    const states = notificationsOf(result.response);
    expect(states.map((n) => n.propertyOperation)).toEqual(['Initialized', 'Initialized', 'Initialized']);
    expect(states).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ topic: 'tns1:RuleEngine/TamperDetector/Tamper', data: { IsTamper: 'true' } }),
        expect.objectContaining({ topic: 'tns1:Device/Trigger/DigitalInput', data: { LogicalState: 'false' } }),
      ]),
    );
    cam0.setTamper(false);
  });

  it('expires subscriptions, counts them, and faults calls on expired ones', async () => {
    const camera = sim.cameras[2]!;
    const before = camera.stats();
    const shortLived = await createPullPoint(camera, 'PT1S');
    const absolute = await createPullPoint(camera, new Date(Date.now() + 60_000).toISOString());
    expect(camera.stats().activeSubscriptions).toBe(before.activeSubscriptions + 2);
    expect(camera.stats().subscriptionsCreated).toBe(before.subscriptionsCreated + 2);
    await until(() => camera.stats().activeSubscriptions === before.activeSubscriptions + 1, 3_000);
    const late = await pull(camera, shortLived, 'PT1S');
    expect(late.faultSubcodes).toEqual(['wsrfr:ResourceUnknownFault']);

    const renewed = await soapCall(
      absolute,
      '<wsnt:Renew><wsnt:TerminationTime>PT120S</wsnt:TerminationTime></wsnt:Renew>',
      credentials(camera),
    );
    const termination = Date.parse(text(child(renewed.response, 'TerminationTime')) ?? '');
    expect(termination - Date.now()).toBeGreaterThan(110_000);
    const unsubscribed = await soapCall(absolute, '<wsnt:Unsubscribe/>', credentials(camera));
    expect(unsubscribed.action).toBe('UnsubscribeResponse');
    expect(camera.stats()).toMatchObject({
      activeSubscriptions: before.activeSubscriptions,
      renewCalls: before.renewCalls + 1,
      unsubscribeCalls: before.unsubscribeCalls + 1,
    });
  });

  it("works with the onvif package's own createPullPointSubscription and pullMessages", async () => {
    const { cam, connected } = connectOnvif(cam0);
    await connected;
    await cam.createPullPointSubscription();
    setTimeout(() => cam0.setInput(true), 200);
    const data = (await cam.pullMessages({ messageLimit: 10 })) as {
      notificationMessage: { topic: { _: string }; message: { message: { data: { simpleItem: { $: object } } } } };
    };
    expect(data.notificationMessage.topic._).toContain('Device/Trigger/DigitalInput');
    expect(data.notificationMessage.message.message.data.simpleItem.$).toEqual({ Name: 'LogicalState', Value: true });
    await cam.unsubscribe();
    cam0.setInput(false);
  });
});

describe('fault modes', () => {
  it('hang: accepts connections but never answers until the mode changes; /sim control keeps working', async () => {
    const camera = sim.cameras[3]!;
    camera.setFault('hang');
    await expect(
      soapCall(url(camera, '/onvif/device_service'), '<tds:GetSystemDateAndTime/>', { timeoutMs: 800 }),
    ).rejects.toThrow(/abort|timeout/i);
    const state = (await (await fetch(url(camera, '/sim/state'))).json()) as { mode: string };
    expect(state.mode).toBe('hang');
    const reset = await fetch(url(camera, '/sim/fault'), { method: 'POST', body: JSON.stringify({ mode: 'none' }) });
    expect(reset.status).toBe(200);
    const after = await soapCall(url(camera, '/onvif/device_service'), '<tds:GetSystemDateAndTime/>');
    expect(after.action).toBe('GetSystemDateAndTimeResponse');
  });

  it('refuse: connection refused until the mode changes', async () => {
    const camera = sim.cameras[3]!;
    camera.setFault('refuse');
    await until(() => connectionRefused(camera));
    camera.setFault('none');
    await until(async () => !(await connectionRefused(camera)));
  });

  it('reboot: drops subscriptions, refuses for the duration, then comes back fresh', async () => {
    const camera = sim.cameras[3]!;
    const address = await createPullPoint(camera);
    const reboots = camera.stats().reboots;
    camera.setFault('reboot', { durationMs: 800 });
    expect(camera.stats()).toMatchObject({ activeSubscriptions: 0, reboots: reboots + 1 });
    await until(() => connectionRefused(camera));
    await until(async () => !(await connectionRefused(camera)), 5_000);
    const stale = await pull(camera, address, 'PT1S');
    expect(stale.faultSubcodes).toEqual(['wsrfr:ResourceUnknownFault']);
  });

  it('clock-skew: reports the skewed clock and validates WS-Security against it', async () => {
    const camera = sim.cameras[2]!;
    const skewMs = 2 * 3_600_000;
    camera.setFault('clock-skew');
    try {
      const date = await soapCall(url(camera, '/onvif/device_service'), '<tds:GetSystemDateAndTime/>');
      const utc = child(child(date.response, 'SystemDateAndTime'), 'UTCDateTime');
      const hour = Number(text(child(child(utc, 'Time'), 'Hour')));
      expect(hour).toBe(new Date(Date.now() + skewMs).getUTCHours());
      const hostClock = await soapCall(
        url(camera, '/onvif/device_service'),
        '<tds:GetDeviceInformation/>',
        credentials(camera),
      );
      expect(hostClock.faultSubcodes).toEqual(['ter:NotAuthorized']);
      const cameraClock = await soapCall(url(camera, '/onvif/device_service'), '<tds:GetDeviceInformation/>', {
        ...credentials(camera),
        clockOffsetMs: skewMs,
      });
      expect(cameraClock.action).toBe('GetDeviceInformationResponse');
      // The onvif package measures the offset at connect, so a fresh client copes.
      await expect(connectOnvif(camera).connected).resolves.toBeUndefined();
    } finally {
      camera.setFault('none');
    }
  });

  it('no-termination-time: PullMessages answers lack CurrentTime and TerminationTime', async () => {
    const camera = sim.cameras[2]!;
    const address = await createPullPoint(camera);
    camera.setFault('no-termination-time');
    const bare = await pull(camera, address, 'PT0S');
    camera.setFault('none');
    expect(bare.action).toBe('PullMessagesResponse');
    expect(child(bare.response, 'CurrentTime')).toBeUndefined();
    expect(child(bare.response, 'TerminationTime')).toBeUndefined();
    const normal = await pull(camera, address, 'PT0S');
    expect(child(normal.response, 'TerminationTime')).toBeDefined();
  });

  it('fault-on-renew: Renew answers a SOAP fault and the subscription is gone', async () => {
    const camera = sim.cameras[2]!;
    const address = await createPullPoint(camera);
    camera.setFault('fault-on-renew');
    const renew = await soapCall(
      address,
      '<wsnt:Renew><wsnt:TerminationTime>PT60S</wsnt:TerminationTime></wsnt:Renew>',
      credentials(camera),
    );
    camera.setFault('none');
    expect(renew.faultSubcodes).toEqual(['wsrfr:ResourceUnknownFault']);
    const afterwards = await pull(camera, address, 'PT0S');
    expect(afterwards.faultSubcodes).toEqual(['wsrfr:ResourceUnknownFault']);
  });

  it('HTTP control: motion over /sim, bad input rejected with 400, sibling control through any port', async () => {
    const address = await createPullPoint(cam1);
    const motion = await fetch(url(cam0, `/sim/cameras/${cam1.id}/motion`), {
      method: 'POST',
      body: JSON.stringify({ active: true }),
    });
    expect(motion.status).toBe(200);
    const result = await pull(cam1, address, 'PT2S');
    expect(notificationsOf(result.response)).toMatchObject([{ data: { State: 'true' } }]);
    const bad = await fetch(url(cam0, '/sim/fault'), { method: 'POST', body: JSON.stringify({ mode: 'explode' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/mode/);
    cam1.setMotion(false);
  });
});

describe('WS-Discovery', () => {
  it("is found by the onvif package's Discovery.probe with one unique EndpointReference per camera", async () => {
    const found = await new Promise<unknown[]>((resolve, reject) =>
      onvif.Discovery.probe({ timeout: 1_500, resolve: false }, (error, cams) =>
        // Other simulators and devices may answer too; errors from them are not ours to judge.
        error && !Array.isArray(error) ? reject(error) : resolve((cams ?? []) as unknown[]),
      ),
    );
    const ours = (
      found as { probeMatches: { probeMatch: { XAddrs: string; endpointReference: { address: string } } } }[]
    )
      .map((match) => match.probeMatches.probeMatch)
      .filter((match) => sim.cameras.some((camera) => match.XAddrs === camera.deviceServiceUrl));
    expect(ours).toHaveLength(CAMERA_COUNT);
    expect(new Set(ours.map((match) => match.endpointReference.address)).size).toBe(CAMERA_COUNT);
    expect(ours[0]!.endpointReference.address).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
  });
});

describe('RTSP streams', () => {
  async function analyse(camera: SimCamera): Promise<{ frozen: boolean; black: boolean; frames: number }> {
    const { stderr } = await run(
      'ffmpeg',
      [
        '-hide_banner',
        '-rtsp_transport',
        'tcp',
        '-i',
        camera.rtspUrl!,
        '-t',
        '4',
        '-an',
        '-vf',
        'freezedetect=n=0.003:d=1.5,blackdetect=d=1.5',
        '-f',
        'null',
        '-',
      ],
      { timeout: 30_000 },
    );
    const frames = [...stderr.matchAll(/frame=\s*(\d+)/g)].map((match) => Number(match[1]));
    return { frozen: /freeze_start/.test(stderr), black: /black_start/.test(stderr), frames: frames.at(-1) ?? 0 };
  }

  it('serves a stream ffprobe can read, and freeze/black modes ffmpeg can detect', async (context) => {
    requireRtsp(context, sim);
    const { stdout } = await run(
      'ffprobe',
      [
        '-v',
        'error',
        '-rtsp_transport',
        'tcp',
        '-select_streams',
        'v:0',
        '-count_packets',
        '-read_intervals',
        '%+#10',
        '-show_entries',
        'stream=codec_name,width,height,nb_read_packets',
        '-of',
        'json',
        cam0.rtspUrl!,
      ],
      { timeout: 20_000 },
    );
    const stream = (JSON.parse(stdout) as { streams: Record<string, unknown>[] }).streams[0];
    expect(stream).toMatchObject({ codec_name: 'h264', width: 640, height: 360 });
    expect(Number(stream!.nb_read_packets)).toBeGreaterThanOrEqual(10);

    const live = await analyse(cam0);
    expect(live).toMatchObject({ frozen: false, black: false });
    expect(live.frames).toBeGreaterThan(20);

    cam1.setFault('freeze-stream');
    const camera2 = sim.cameras[2]!;
    camera2.setFault('black-stream');
    try {
      const [frozen, black] = await Promise.all([analyse(cam1), analyse(camera2)]);
      expect(frozen).toMatchObject({ frozen: true, black: false });
      expect(frozen.frames).toBeGreaterThan(20);
      expect(black).toMatchObject({ black: true });
      const snapshot = await digestFetch(camera2.snapshotUrl, camera2);
      expect(snapshot.status).toBe(200);
    } finally {
      cam1.setFault('none');
      camera2.setFault('none');
    }
  }, 60_000);
});
