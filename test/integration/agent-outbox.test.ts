import { rmSync, writeFileSync } from 'node:fs';
import { freePortBlock } from '../support/processes.js';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, Collector, freePort, MosquittoProcess, sleep, tempDir } from '../support/agent-harness.js';
import { type SimCamera, startSimulator, type Simulator } from '@camhub/simulator';
import { uniqueToken, uniqueTopicRoot } from '../support/ids.js';
import { simCameras, writeAgentConfig } from '../support/agent-config.js';

// The agent as a real child process (npm run agent's entry) with a Mosquitto of our own that we stop and start,
// and a SIGKILL in the middle: nothing may be lost, duplicated or reordered within a camera.
// A free block in this file's own band (test/support/processes.ts: freePortBlock).
const BASE_PORT = await freePortBlock(32, 23000);
const ROOT = uniqueTopicRoot();
const SITE = `obx-${uniqueToken()}`;

let sim: Simulator;
let broker: MosquittoProcess;
let dir: string;
let configFile: string;
const agents: AgentProcess[] = [];
const collectors: Collector[] = [];

beforeAll(async () => {
  sim = await startSimulator({ cameras: 2, basePort: BASE_PORT, rtsp: false, discovery: false });
  broker = new MosquittoProcess(await freePort());
  await broker.start();
  dir = tempDir('agent-outbox-');
  configFile = writeAgentConfig(join(dir, 'agent.yaml'), {
    site: SITE,
    mqtt: { url: `mqtt://127.0.0.1:${broker.port}`, topicRoot: ROOT },
    dataDir: join(dir, 'data'),
    outbox: { maxBytes: 8 * 1024 * 1024 },
    onvif: { requestTimeoutMs: 1000 },
    cameras: simCameras(sim.cameras, () => ({ snapshot: 'off' })),
  });
});

afterAll(async () => {
  for (const a of agents) await a.kill('SIGKILL');
  for (const c of collectors) await c.close();
  await broker?.stop();
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A new agent run has subscribed on every camera (and only once: a killed run's leftover was unsubscribed). */
async function subscribed(createdBefore: number[]): Promise<void> {
  const end = Date.now() + 10_000;
  while (
    !sim.cameras.every(
      (c, i) => c.stats().subscriptionsCreated > createdBefore[i]! && c.stats().activeSubscriptions === 1,
    )
  ) {
    if (Date.now() > end) throw new Error('agent did not subscribe');
    await sleep(50);
  }
}

const createdCounts = () => sim.cameras.map((c) => c.stats().subscriptionsCreated);

let counter = 0;
function pulses(n: number): void {
  for (let i = 0; i < n; i++) {
    for (const cam of sim.cameras as SimCamera[])
      cam.emit('tns1:RuleEngine/LineDetector/Crossed', { ObjectId: String(++counter) });
  }
}

describe('edge agent store-and-forward', () => {
  it('broker down + SIGKILL + restart: every stored event arrives exactly once, in order per camera', async () => {
    const collector = await Collector.connect(`mqtt://127.0.0.1:${broker.port}`, ROOT);
    collectors.push(collector);
    const created = createdCounts();
    const first = new AgentProcess(configFile);
    agents.push(first);
    await subscribed(created);

    pulses(5); // broker up: delivered live
    await collector.waitFor(() => collector.events().length >= 10, 10_000, 'live events');

    await broker.kill();
    pulses(100); // broker down: into the outbox
    await first.waitForLog(() => first.storedEvents().length >= 210, 15_000);
    pulses(20);
    await sleep(150); // SIGKILL while these are being pulled and stored
    await first.kill('SIGKILL');
    const storedByFirst = first.storedEvents();

    await broker.start();
    await collector.resubscribed(ROOT);
    const restartedAt = Date.now();
    const createdAgain = createdCounts();
    const second = new AgentProcess(configFile);
    agents.push(second);
    await subscribed(createdAgain);
    pulses(5); // after the restart, live again

    const expected = () => [...storedByFirst, ...second.storedEvents()];
    try {
      await collector.waitFor(
        () => {
          const got = new Set(collector.events().map((e) => e.id));
          return expected().length >= storedByFirst.length + 10 && expected().every((e) => got.has(e.id));
        },
        30_000,
        'every stored event',
      );
    } catch (err) {
      const got = new Set(collector.events().map((e) => e.id));
      console.log(
        'stored by first',
        storedByFirst.length,
        'by second',
        second.storedEvents().length,
        'received',
        collector.events().length,
        'missing',
        expected().filter((e) => !got.has(e.id)).length,
        second.stderr.slice(-1500),
        second
          .logs()
          .filter((l) => (l.level as number) >= 40)
          .slice(0, 10),
      );
      throw err;
    }
    const drainMs = Date.now() - restartedAt;

    const received = collector.events();
    const ids = received.map((e) => e.id as string);
    // Exactly once by id.
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set(expected().map((e) => e.id)));
    for (const camera of ['cam-0', 'cam-1']) {
      const seqs = received.filter((e) => e.camera === camera).map((e) => e.seq as number);
      // In order per camera, no seq used twice (a crash may leave a gap, never a reuse).
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
      const markers = received
        .filter((e) => e.camera === camera)
        .map((e) => Number((e.data as Record<string, string>).ObjectId));
      expect(markers).toEqual([...markers].sort((a, b) => a - b));
    }
    console.log(
      `agent outbox: ${storedByFirst.length} events stored by the killed agent, ${received.length} delivered in total, ` +
        `backlog + restart drained in ${drainMs} ms`,
    );
    await second.kill('SIGTERM');
  });

  it('SIGTERM: unsubscribes, publishes the retained offline status and exits 0', async () => {
    const collector = await Collector.connect(`mqtt://127.0.0.1:${broker.port}`, ROOT);
    collectors.push(collector);
    const created = createdCounts();
    const agent = new AgentProcess(configFile);
    agents.push(agent);
    await subscribed(created);
    await collector.waitFor(
      () => collector.messages.find((m) => m.topic.endsWith('/agent') && m.payload.state === 'online'),
      10_000,
      'online status',
    );
    expect(await agent.kill('SIGTERM')).toBe(0);
    for (const cam of sim.cameras) expect(cam.stats().activeSubscriptions).toBe(0);
    const offline = await collector.waitFor(
      () => collector.messages.find((m) => m.topic === `${ROOT}/${SITE}/agent` && m.payload.state === 'offline'),
      5000,
      'offline status',
    );
    expect(offline.payload).toMatchObject({ v: 1, site: SITE, cameras: 2 });
  });

  it('SIGKILL: the broker publishes the last will (retained offline status)', async () => {
    const created = createdCounts();
    const agent = new AgentProcess(configFile);
    agents.push(agent);
    await subscribed(created);
    await agent.waitForLog((l) => l.msg === 'mqtt connected');
    await agent.kill('SIGKILL');
    // Keepalive is 30 s, but a killed process closes its socket: Mosquitto sends the will at once.
    const collector = await Collector.connect(`mqtt://127.0.0.1:${broker.port}`, ROOT);
    collectors.push(collector);
    const retained = await collector.waitFor(
      () => collector.messages.find((m) => m.topic === `${ROOT}/${SITE}/agent`),
      5000,
      'retained agent status',
    );
    expect(retained.payload.state).toBe('offline');
  });

  it('a bad config file exits non-zero naming every bad field', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      [
        'site: Bad Site',
        'mqtt: { url: "localhost:1883" }',
        'dataDir: /tmp/x',
        'outbox: { maxBytes: 100 }',
        'cameras:',
        '  - { id: cam-0, name: a, host: h, port: 80, username: u, password: p }',
        '  - { id: cam-1, name: b, host: h, port: 80, username: u, password: p }',
        '  - { id: cam-2, name: c, host: h, port: 99999, username: u, password: p }',
      ].join('\n'),
    );
    const agent = new AgentProcess(bad);
    const code = await agent.exited;
    expect(code).not.toBe(0);
    expect(agent.stderr).toContain('cameras[2].port: must be an integer 1-65535');
    expect(agent.stderr).toContain('site: must match');
    expect(agent.stderr).toContain('mqtt.url: must be a URL like mqtt://host:1883');
    expect(agent.stderr).toContain('outbox.maxBytes: must be an integer of at least 65536');
  });
});
