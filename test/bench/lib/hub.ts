import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HubConfig } from '../../../hub/src/config.js';
import { freePort, REPO_ROOT } from '../../support/processes.js';
import { waitFor } from '../../support/wait.js';

/**
 * Which checkout's hub to run. Default: this one. BENCH_HUB_ROOT points at another (e.g. `git archive` of an older
 * commit) to compare two versions of the ingest path with the same benchmark.
 */
export const HUB_ROOT = process.env.BENCH_HUB_ROOT ?? REPO_ROOT;

export interface BenchHub {
  proc: ChildProcess;
  pid: number;
  url: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** The real hub (`hub/src/cli.ts serve`), optionally with a V8 CPU profile written when it stops (SIGTERM). */
export async function startHub(
  config: HubConfig,
  opts: { env?: Record<string, string>; cpuProfileDir?: string } = {},
): Promise<BenchHub> {
  const port = await freePort();
  const env: Record<string, string> = { ...(process.env as Record<string, string>) };
  for (const [k, v] of Object.entries(config)) if (v !== undefined) env[k] = String(v);
  // Key, snapshots, clips and exports in a temp dir of its own: a benchmark writes nothing into the checkout.
  const data = mkdtempSync(join(tmpdir(), 'camhub-bench-hub-'));
  Object.assign(
    env,
    {
      SNAPSHOT_DIR: join(data, 'snapshots'),
      CLIP_DIR: join(data, 'clips'),
      EXPORT_DIR: join(data, 'exports'),
      HUB_KEY_FILE: join(data, 'hub.pem'),
    },
    opts.env,
    { PORT: String(port), HOST: '127.0.0.1' },
  );
  // One directory per hub: V8 writes one profile per thread (the main thread, and tsx's module-loader thread).
  const nodeArgs = opts.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfileDir}`] : [];
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(HUB_ROOT, 'hub/src/cli.ts'), 'serve'], {
    cwd: HUB_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-50_000));
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (proc.exitCode !== null) throw new Error(`hub exited with ${proc.exitCode}: ${out.slice(-3000)}`);
      return (await fetch(`${url}/readyz`)).status === 200;
    },
    { timeoutMs: 180_000, intervalMs: 200, what: `hub ready on ${url}` },
  );
  return {
    proc,
    pid: proc.pid!,
    url,
    output: () => out,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}
