import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { freePort } from '../../scripts/lib/net.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HubConfig } from '../../hub/src/config.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

export { freePort };

export interface HubProcess {
  proc: ChildProcess;
  url: string;
  /** From spawn to the first 200 from /readyz. */
  readyMs: number;
  /** The hub's last output (stdout and stderr, at most 50,000 characters). */
  output: () => string;
  /** Signals the hub's process group and waits for the hub to exit. */
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

/** How to start the hub: by default the sources through tsx, as in development. */
export interface HubLaunch {
  /** Arguments to `node` (the script, relative to cwd, and its arguments). */
  args: string[];
  cwd: string;
}

export interface SpawnHubOptions {
  /** Longest wait for /readyz to answer 200 (default 30 s). */
  timeoutMs?: number;
  /** Called with the child as soon as it is spawned (the fault suite registers it for its exit handler). */
  onSpawn?: (child: ChildProcess) => void;
}

/** The hub child exited, or was not ready in time (it has then been killed, with its process group). */
export class HubStartError extends Error {
  readonly code = 'hub_not_ready';
  constructor(
    message: string,
    /** The hub's last output lines. */
    readonly output: string,
  ) {
    super(`${message}; its last output:\n${output}`);
    this.name = 'HubStartError';
  }
}

const OUTPUT_KEPT = 50_000;
const lastLines = (out: string, n = 40) => out.split('\n').slice(-n).join('\n');

/** Hub process groups not yet known to have exited: killed if the test process exits first. */
const liveGroups = new Set<number>();
process.once('exit', () => {
  for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL');
});

/** Signals every process of group `pgid`; false when the group is already gone. */
function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/**
 * Starts the real hub (`hub/src/cli.ts serve`, or what `launch` says, e.g. a release's `hub/dist/server.js`) as a
 * child process and waits until /readyz says ready. The hub leads its own process group, so that stopping it, or
 * giving up on it, takes everything it started with it. A hub that exits before it is ready, or is not ready in
 * time, is killed (group, SIGKILL), awaited, and reported as a HubStartError with its last output: left running, it
 * would keep its MQTT session and queue workers and take the next hub's messages and jobs.
 */
export async function spawnHub(
  config: HubConfig,
  extraEnv: Record<string, string> = {},
  launch: HubLaunch = { args: ['--import', 'tsx', join(REPO_ROOT, 'hub/src/cli.ts'), 'serve'], cwd: REPO_ROOT },
  opts: SpawnHubOptions = {},
): Promise<HubProcess> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const port = await freePort();
  const env: Record<string, string> = { ...(process.env as Record<string, string>), ...extraEnv };
  for (const [k, v] of Object.entries(config)) if (v !== undefined) env[k] = String(v);
  env.PORT = String(port);
  env.HOST = '127.0.0.1';
  env.LOG_LEVEL = extraEnv.LOG_LEVEL ?? 'warn';
  const started = Date.now();
  const proc = spawn(process.execPath, launch.args, {
    cwd: launch.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pgid = proc.pid!;
  liveGroups.add(pgid);
  opts.onSpawn?.(proc);
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-OUTPUT_KEPT));
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) =>
    proc.once('exit', () => {
      // The hub is gone; anything it started and left in its group goes with it. (While any member lives, the
      // group id cannot be handed to a new process, so this never reaches a stranger.)
      signalGroup(pgid, 'SIGKILL');
      liveGroups.delete(pgid);
      resolve();
    }),
  );
  const hasExited = () => proc.exitCode !== null || proc.signalCode !== null;
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (!hasExited()) signalGroup(pgid, signal);
    await exited;
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = started + timeoutMs;
  let last = 'no answer yet';
  while (!hasExited()) {
    if (Date.now() >= deadline) {
      await stop('SIGKILL');
      throw new HubStartError(`hub not ready on ${url} within ${timeoutMs} ms (last: ${last}); killed`, lastLines(out));
    }
    try {
      // Bounded by the deadline: a hub too busy to answer must not hold the wait beyond it.
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(Math.max(100, deadline - Date.now())) });
      if (res.status === 200) {
        return { proc, url, readyMs: Date.now() - started, output: () => out, stop };
      }
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      // Not listening yet, or the wait ran out: the loop decides.
      const e = err as Error & { cause?: Error };
      last = e.cause?.message ?? e.message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop('SIGKILL');
  throw new HubStartError(`hub exited (${proc.exitCode ?? proc.signalCode}) before ready`, lastLines(out));
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
