/**
 * Start-up cost of the hub and the edge agent: from the TypeScript sources through tsx (development; with tsx's
 * transpile cache cold, as under systemd's PrivateTmp, and warm) against the release bundle (`npm run build`, what
 * the images and units run). Per run: the cold import of the hub's modules, the time from spawn to ready (the hub
 * listening, the agent's "agent started"), and RSS (resident and peak) at that moment. Modes alternate run by run,
 * so a change in the machine's load spreads over all of them.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase } from '../support/db.js';
import { deleteQueueKeys, removeMqttSession } from '../support/hub.js';
import { uniqueQueuePrefix, uniqueToken, uniqueTopicRoot } from '../support/ids.js';
import { freePort, REPO_ROOT } from '../support/processes.js';
import { percentile, round } from './lib/stats.js';

const execFileAsync = promisify(execFile);

export const STARTUP_MODES = ['tsx, cold cache', 'tsx', 'bundle'] as const;
export type StartupMode = (typeof STARTUP_MODES)[number];

interface Sample {
  ms: number;
  rssMiB: number;
  peakMiB: number;
}

/** A few runs: the median and the range. */
export interface Spread {
  min: number;
  p50: number;
  max: number;
}

const spread = (xs: number[]): Spread => ({
  min: percentile(xs, 0),
  p50: percentile(xs, 50),
  max: percentile(xs, 100),
});

export interface StartupFigures {
  runs: number;
  importMs?: Spread;
  importPeakMiB?: Spread;
  readyMs: Spread;
  rssReadyMiB: Spread;
  peakReadyMiB: Spread;
}

export type StartupResult = Record<'hub' | 'agent', Record<StartupMode, StartupFigures>>;

const SOURCES = { hub: 'hub/src/server.ts', agent: 'edge-agent/src/main.ts' };
const BUNDLES = { hub: 'hub/dist/server.js', agent: 'edge-agent/dist/main.js' };

/** `node` arguments and environment for one mode; the cold mode gets a fresh, empty tsx cache folder every run. */
function launch(mode: StartupMode, which: 'hub' | 'agent') {
  if (mode === 'bundle') return { args: [BUNDLES[which]], env: {} };
  const env: Record<string, string> = mode === 'tsx' ? {} : { TMPDIR: mkdtempSync(join(tmpdir(), 'camhub-cold-')) };
  return { args: ['--import', 'tsx', SOURCES[which]], env };
}

/** VmRSS and VmHWM (peak) of a process, in MiB. */
function memory(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMiB: round(kib('VmRSS') / 1024), peakMiB: round(kib('VmHWM') / 1024) };
}

/** Spawns, waits for the line that says ready, samples memory, stops it with SIGTERM. */
async function startOnce(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<Sample & { output: string }> {
  const t0 = performance.now();
  const proc = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...(process.env as Record<string, string>), NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const sample = await new Promise<Sample>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready within 120 s: ${output.slice(-2000)}`)), 120_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      if (!ready.test(output)) return;
      proc.stdout!.off('data', onData);
      clearTimeout(timer);
      resolve({ ms: round(performance.now() - t0, 0), ...memory(proc.pid!) });
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ready: ${output.slice(-2000)}`));
    });
  });
  proc.kill('SIGTERM');
  await exited;
  return { ...sample, output };
}

/** Loads the hub's modules (server.ts does not start when imported) and reports time since process start. */
async function importOnce(mode: StartupMode): Promise<Sample> {
  const { args, env } = launch(mode, 'hub');
  const file = args.at(-1)!;
  const script =
    'const { readFileSync } = await import("node:fs");' +
    `await import(${JSON.stringify(join(REPO_ROOT, file))});` +
    'const s = readFileSync("/proc/self/status", "utf8");' +
    'const kib = (k) => Number(new RegExp("^" + k + ":\\\\s+(\\\\d+) kB", "m").exec(s)[1]);' +
    'console.log(JSON.stringify({ ms: performance.now(), rssMiB: kib("VmRSS") / 1024, peakMiB: kib("VmHWM") / 1024 }));' +
    'process.exit(0);';
  const { stdout } = await execFileAsync(
    process.execPath,
    [...args.slice(0, -1), '--input-type=module', '--eval', script],
    { cwd: REPO_ROOT, env: { ...process.env, NODE_OPTIONS: '', ...env } },
  );
  const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as Sample;
  return { ms: round(r.ms, 0), rssMiB: round(r.rssMiB), peakMiB: round(r.peakMiB) };
}

export async function runStartup(opts: { runs: number }, log: (m: string) => void): Promise<StartupResult> {
  log('startup: npm run build (hub, console, agent)');
  await execFileAsync(process.execPath, ['--import', 'tsx', 'scripts/build.ts'], { cwd: REPO_ROOT });

  const db = await createTestDatabase();
  const queuePrefix = uniqueQueuePrefix();
  // One persistent MQTT session for every hub run, ended at the end.
  const mqttClientId = `bench-startup-${uniqueToken()}`;
  const work = mkdtempSync(join(tmpdir(), 'camhub-bench-startup-'));
  const samples = new Map<string, Sample[]>();
  const add = (key: string, s: Sample) => samples.set(key, [...(samples.get(key) ?? []), s]);
  try {
    const topicRoot = uniqueTopicRoot();
    const agentConfig = join(work, 'agent.json');
    writeFileSync(
      agentConfig,
      JSON.stringify({
        site: `bench-startup-${uniqueToken()}`,
        mqtt: { url: 'mqtt://127.0.0.1:1883', topicRoot },
        dataDir: join(work, 'agent'),
        outbox: { maxBytes: 4 * 1024 * 1024 },
        health: { stream: false },
        // A camera nobody answers for: the agent starts and keeps retrying, which is all this measures.
        cameras: [{ id: 'cam-0', name: 'none', host: '127.0.0.1', port: 9, username: 'u', password: 'p' }],
      }),
    );
    for (let run = 0; run < opts.runs; run++) {
      for (const mode of STARTUP_MODES) {
        log(`startup: run ${run + 1}/${opts.runs}, ${mode}`);
        add(`hub import ${mode}`, await importOnce(mode));

        const hub = launch(mode, 'hub');
        const port = await freePort();
        add(
          `hub ready ${mode}`,
          await startOnce(
            hub.args,
            {
              ...hub.env,
              DATABASE_URL: db.url,
              QUEUE_PREFIX: queuePrefix,
              MQTT_TOPIC_ROOT: topicRoot,
              MQTT_CLIENT_ID: mqttClientId,
              PORT: String(port),
              HOST: '127.0.0.1',
              LOG_LEVEL: 'info',
              SNAPSHOT_DIR: join(work, 'snapshots'),
              EXPORT_DIR: join(work, 'exports'),
              HUB_KEY_FILE: join(work, 'hub.pem'),
              CAMHUB_ADMIN_PASSWORD: 'bench-startup-password',
            },
            /Server listening at/,
          ),
        );

        const agent = launch(mode, 'agent');
        add(
          `agent ready ${mode}`,
          await startOnce([...agent.args, '--config', agentConfig], agent.env, /"msg":"agent started"/),
        );
        if (agent.env.TMPDIR) rmSync(agent.env.TMPDIR, { recursive: true, force: true });
        if (hub.env.TMPDIR) rmSync(hub.env.TMPDIR, { recursive: true, force: true });
      }
    }
  } finally {
    await deleteQueueKeys(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', queuePrefix);
    await removeMqttSession({ MQTT_URL: 'mqtt://127.0.0.1:1883', MQTT_CLIENT_ID: mqttClientId });
    await db.drop();
    rmSync(work, { recursive: true, force: true });
  }
  const figures = (which: 'hub' | 'agent', mode: StartupMode): StartupFigures => {
    const ready = samples.get(`${which} ready ${mode}`) ?? [];
    const imports = which === 'hub' ? samples.get(`hub import ${mode}`) : undefined;
    return {
      runs: ready.length,
      ...(imports
        ? { importMs: spread(imports.map((s) => s.ms)), importPeakMiB: spread(imports.map((s) => s.peakMiB)) }
        : {}),
      readyMs: spread(ready.map((s) => s.ms)),
      rssReadyMiB: spread(ready.map((s) => s.rssMiB)),
      peakReadyMiB: spread(ready.map((s) => s.peakMiB)),
    };
  };
  const result = { hub: {}, agent: {} } as StartupResult;
  for (const which of ['hub', 'agent'] as const) {
    for (const mode of STARTUP_MODES) result[which][mode] = figures(which, mode);
  }
  return result;
}
