import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { uniqueToken } from './ids.js';
import { freePort, REPO_ROOT } from './processes.js';
import { waitFor } from './wait.js';

// `npm run demo` as a person starts it, for the tests that check what the demo shows (test/integration/demo.test.ts,
// test/e2e/demo-clip.test.ts).

/** Every live process whose environment carries `marker` (children inherit it: hub, agents, ffmpeg, GStreamer). */
export async function processesWithMarker(marker: string): Promise<{ pid: number; cmd: string }[]> {
  const found: { pid: number; cmd: string }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let environ: string;
    let cmd: string;
    try {
      environ = await readFile(`/proc/${entry}/environ`, 'latin1');
      cmd = (await readFile(`/proc/${entry}/cmdline`, 'latin1')).replace(/\0/g, ' ').trim();
    } catch (err) {
      // Ended while we looked (not a leftover), or another user's process (not ours).
      if (['ENOENT', 'ESRCH', 'EACCES', 'EPERM'].includes((err as NodeJS.ErrnoException).code ?? '')) continue;
      throw err;
    }
    // A zombie has no environment or command line left; it holds no port and its parent reaps it.
    if (environ.split('\0').includes(`CAMHUB_DEMO_TEST_MARKER=${marker}`) && cmd) {
      found.push({ pid: Number(entry), cmd });
    }
  }
  return found;
}

/** After a failed test: the whole npm group (the demo's reaper then ends what it started). */
export function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

export interface DemoRun {
  proc: ChildProcess;
  output: () => string;
  marker: string;
  /** When npm and everything holding its output pipes (tsx, the demo) have exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  url: string;
}

/** `npm run demo -- …` as a person would start it, in its own process group like a terminal's foreground job. */
export async function startDemo(
  args: string[],
  env: Record<string, string>,
  opts: { durationSec?: number } = {},
): Promise<DemoRun> {
  const marker = uniqueToken();
  const port = await freePort();
  // --ignore-scripts skips `predemo` (the console build): that is the console's business, not this test's.
  const proc = spawn(
    'npm',
    [
      'run',
      '--ignore-scripts',
      'demo',
      '--',
      '--headless',
      '--port',
      String(port),
      '--duration',
      String(opts.durationSec ?? 150),
      ...args,
    ],
    {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env, CAMHUB_DEMO_TEST_MARKER: marker },
    },
  );
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  // 'close', not 'exit': npm dies of the SIGINT at once, while the demo, still writing to the same pipes, stops things.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('close', (code, signal) => resolve({ code, signal })),
  );
  await waitFor(
    () => {
      if (proc.exitCode !== null) throw new Error(`demo exited with ${proc.exitCode}:\n${out}`);
      return out.includes('demo: ready');
    },
    { timeoutMs: 90_000, intervalMs: 250, what: `demo ready; output so far:\n${out}` },
  );
  return { proc, output: () => out, marker, exited, url: `http://127.0.0.1:${port}` };
}
