/**
 * One edge agent process with 100 simulated cameras (the ONVIF simulator, PullPoint over real HTTP) publishing to
 * the bench broker: its CPU and RSS at rest and during a motion storm, and the latency from the moment the
 * simulator queues a notification (its PullMessages reply goes out at once to the waiting long poll) to the
 * moment a subscriber receives the event from the broker.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { startSimulator } from '@camhub/simulator';
import { simCameras } from '../support/agent-config.js';
import { freePort, REPO_ROOT } from '../support/processes.js';
import { waitFor } from '../support/wait.js';
import { type BenchBroker, HUB_MQTT_USER } from './lib/broker.js';
import { loadAverage, ProcSampler } from './lib/proc.js';
import { fmt, type Row, summary } from './lib/stats.js';

export const EDGE_SITE = 'bench-edge';

export interface EdgeOptions {
  cameras: number;
  restSeconds: number;
  stormSeconds: number;
  /** Motion toggles per camera per second during the storm. */
  stormTogglesPerSec?: number;
}

export async function runEdge(broker: BenchBroker, o: EdgeOptions, log: (m: string) => void) {
  const basePort = await freePort().then((p) => Math.min(p, 60_000 - o.cameras));
  const sim = await startSimulator({ cameras: o.cameras, basePort, rtsp: false, discovery: false });
  const dir = mkdtempSync(join(tmpdir(), 'camhub-bench-edge-'));
  const emitted = new Map<string, number[]>();
  const latencies: number[] = [];
  let received = 0;
  const sub = await mqtt.connectAsync(broker.url, {
    username: HUB_MQTT_USER,
    password: broker.hubPassword,
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: 0,
  });
  sub.on('message', (_topic, payload) => {
    const now = Date.now();
    const e = JSON.parse(payload.toString()) as { camera: string };
    received += 1;
    const t = emitted.get(e.camera)?.shift();
    if (t !== undefined) latencies.push(now - t);
  });
  await sub.subscribeAsync(`camhub/v1/${EDGE_SITE}/cameras/+/events`, { qos: 1 });

  const config = {
    site: EDGE_SITE,
    mqtt: { url: broker.url, username: EDGE_SITE, password: broker.sitePassword(EDGE_SITE), topicRoot: 'camhub/v1' },
    dataDir: join(dir, 'data'),
    outbox: { maxBytes: 64 * 1024 * 1024 },
    logLevel: 'warn',
    cameras: simCameras(sim.cameras, (i) => ({
      id: `cam-${String(i).padStart(3, '0')}`,
      name: `Bench camera ${i}`,
      // Snapshots would measure the simulator's JPEG and an upload receiver more than the agent: off here.
      snapshot: 'off',
    })),
  };
  const configFile = join(dir, 'agent.yaml');
  writeFileSync(configFile, stringify(config));
  let output = '';
  const agent = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'edge-agent/src/main.ts'), '--config', configFile],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  agent.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  agent.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  const exited = new Promise((r) => agent.once('exit', r));
  try {
    const t0 = Date.now();
    await waitFor(
      () => {
        if (agent.exitCode !== null) throw new Error(`agent exited with ${agent.exitCode}: ${output}`);
        return sim.cameras.every((c) => c.stats().activeSubscriptions >= 1);
      },
      { timeoutMs: 90_000, intervalMs: 250, what: `the agent subscribed to all ${o.cameras} cameras` },
    );
    const startupSeconds = (Date.now() - t0) / 1000;
    log(
      `edge: agent subscribed to ${o.cameras} cameras in ${startupSeconds.toFixed(1)} s; at rest for ${o.restSeconds} s`,
    );
    await new Promise((r) => setTimeout(r, 2000));
    const rest = new ProcSampler(agent.pid!).start();
    await new Promise((r) => setTimeout(r, o.restSeconds * 1000));
    const atRest = rest.stop();

    const perSec = o.stormTogglesPerSec ?? 5;
    log(`edge: motion storm, ${fmt(perSec * o.cameras)} events/s for ${o.stormSeconds} s`);
    const storm = new ProcSampler(agent.pid!).start();
    let sent = 0;
    const stormEnd = Date.now() + o.stormSeconds * 1000;
    const active = new Array<boolean>(o.cameras).fill(false);
    while (Date.now() < stormEnd) {
      const tick = Date.now();
      for (let i = 0; i < o.cameras; i++) {
        active[i] = !active[i];
        const id = `cam-${String(i).padStart(3, '0')}`;
        const list = emitted.get(id) ?? [];
        list.push(Date.now());
        emitted.set(id, list);
        sim.cameras[i]!.setMotion(active[i]!);
        sent += 1;
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 / perSec - (Date.now() - tick))));
    }
    await waitFor(() => received >= sent, { timeoutMs: 30_000, what: 'storm events at the subscriber' }).catch(
      (err: Error) => log(`  ${err.message}: ${received}/${sent}`),
    );
    const during = storm.stop();
    const latency = summary(latencies);
    const result = {
      cameras: o.cameras,
      startupSeconds,
      atRest: { cpuPct: atRest.cpuPct, rssMiB: atRest.rssMaxMiB },
      storm: { eventsPerSec: perSec * o.cameras, sent, received, cpuPct: during.cpuPct, rssMiB: during.rssMaxMiB },
      publishLatencyMs: latency,
      loadAvg: loadAverage(),
    };
    const rows: Row[] = [
      {
        section: 'edge ×100',
        metric: 'agent CPU % of a core at rest',
        value: fmt(atRest.cpuPct, 1),
        target: '≤ 30',
        ok: atRest.cpuPct <= 30,
      },
      {
        section: 'edge ×100',
        metric: 'agent RSS MiB (max of rest, storm)',
        value: fmt(Math.max(atRest.rssMaxMiB, during.rssMaxMiB)),
        target: '≤ 300',
        ok: Math.max(atRest.rssMaxMiB, during.rssMaxMiB) <= 300,
      },
      {
        section: 'edge ×100',
        metric: `storm ${fmt(perSec * o.cameras)} ev/s: agent CPU %, events received`,
        value: `${fmt(during.cpuPct)} %, ${fmt(received)}/${fmt(sent)}`,
      },
      {
        section: 'edge ×100',
        metric: 'simulator emit → broker subscriber p50/p99 ms',
        value: `${latency.p50} / ${latency.p99}`,
        target: 'p99 ≤ 100',
        ok: latency.p99 <= 100,
      },
    ];
    return { result, rows };
  } finally {
    if (agent.exitCode === null) agent.kill('SIGTERM');
    await exited;
    await sub.endAsync();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
