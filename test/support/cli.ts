import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { HubConfig } from '../../hub/src/config.js';
import { REPO_ROOT } from './processes.js';

/** Runs `npm run hub -- <args>` with this hub's configuration, as an operator would; stdin is written and closed. */
export function runHubCli(config: HubConfig, args: string[], stdin = ''): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env } as Record<string, string>;
    for (const [k, v] of Object.entries(config)) if (v !== undefined) env[k] = String(v);
    const p = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'hub/src/cli.ts'), ...args], {
      cwd: REPO_ROOT,
      env,
    });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('error', reject);
    p.on('exit', (code) => resolve({ code: code ?? -1, out }));
    p.stdin.end(stdin);
  });
}
