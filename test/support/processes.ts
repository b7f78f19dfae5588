import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { freePort } from '../../scripts/lib/net.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HubConfig } from '../../hub/src/config.js';
import { waitFor } from './wait.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

export { freePort };

export interface HubProcess {
  proc: ChildProcess;
  url: string;
  output: () => string;
  /** Sends a signal and waits for the process to exit. */
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

/** How to start the hub: by default the sources through tsx, as in development. */
export interface HubLaunch {
  /** Arguments to `node` (the script, relative to cwd, and its arguments). */
  args: string[];
  cwd: string;
}

/**
 * Starts the real hub (`hub/src/cli.ts serve`, or what `launch` says, e.g. a release's `hub/dist/server.js`) as a
 * child process and waits until /readyz says ready.
 */
export async function spawnHub(
  config: HubConfig,
  extraEnv: Record<string, string> = {},
  launch: HubLaunch = { args: ['--import', 'tsx', join(REPO_ROOT, 'hub/src/cli.ts'), 'serve'], cwd: REPO_ROOT },
): Promise<HubProcess> {
  const port = await freePort();
  const env: Record<string, string> = { ...(process.env as Record<string, string>), ...extraEnv };
  for (const [k, v] of Object.entries(config)) if (v !== undefined) env[k] = String(v);
  env.PORT = String(port);
  env.HOST = '127.0.0.1';
  env.LOG_LEVEL = extraEnv.LOG_LEVEL ?? 'warn';
  const proc = spawn(process.execPath, launch.args, {
    cwd: launch.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  await waitFor(
    async () => {
      if (proc.exitCode !== null) throw new Error(`hub exited with ${proc.exitCode}: ${out}`);
      const res = await fetch(`${url}/readyz`);
      return res.status === 200;
    },
    { timeoutMs: 30_000, intervalMs: 200, what: `hub ready on ${url}` },
  );
  return {
    proc,
    url,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
  };
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * The first port of `count` consecutive free ports, for servers that must sit on P, P+1, … (the camera simulator).
 * Searched in the band [from, from + 1000), below Linux's ephemeral range (32768+), so that a port the kernel hands
 * to some outgoing connection can never collide with it; give each test file a band of its own.
 */
export async function freePortBlock(count: number, from: number): Promise<number> {
  if (from < 1024 || from + 1000 > 32768) throw new Error(`port band ${from} must lie within 1024..31768`);
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = from + Math.floor(Math.random() * (1000 - count));
    const checks = await Promise.all(Array.from({ length: count }, (_, i) => bindable(base + i)));
    if (checks.every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports in ${from}..${from + 999}`);
}
