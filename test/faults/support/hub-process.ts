import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { HubConfig } from '../../../hub/src/config.js';
import { freePort, REPO_ROOT } from '../../support/processes.js';
import { waitFor } from '../../support/wait.js';
import { exited, track } from './cleanup.js';

export interface HubProcess {
  pid: number;
  url: string;
  output: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

/**
 * The real hub (`hub/src/cli.ts serve`) as a child process, like test/support/processes.ts's spawnHub, but patient
 * (tsx compiles the hub at start, which takes far longer on a loaded 2-core machine) and quick to report a hub
 * that exited instead of waiting out the deadline.
 */
export async function spawnHubProcess(config: HubConfig, timeoutMs = 90_000): Promise<HubProcess> {
  const port = await freePort();
  const env: Record<string, string> = { ...(process.env as Record<string, string>) };
  for (const [k, v] of Object.entries(config)) if (v !== undefined) env[k] = String(v);
  env.PORT = String(port);
  env.HOST = '127.0.0.1';
  const proc = track(
    spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'hub/src/cli.ts'), 'serve'], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-50_000));
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  let died: Error | null = null;
  proc.once(
    'exit',
    (code, signal) => (died = new Error(`hub exited (${code ?? signal}) before ready:\n${out.slice(-3000)}`)),
  );
  await waitFor(
    async () => {
      if (died) return true;
      return (await fetch(`${url}/readyz`)).status === 200;
    },
    { timeoutMs, intervalMs: 200, what: `hub ready on ${url}` },
  );
  if (died) throw died;
  return {
    pid: proc.pid!,
    url,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited(proc);
    },
  };
}
