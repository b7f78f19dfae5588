import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { REPO_ROOT } from '../../support/processes.js';
import type { LoadgenOptions, LoadgenResult } from '../loadgen.js';

export interface LoadgenRun {
  proc: ChildProcess;
  /** Epoch ms at which publishing began. */
  started: Promise<number>;
  result: Promise<LoadgenResult>;
}

/** Starts test/bench/loadgen.ts as its own process. */
export function runLoadgen(opts: LoadgenOptions): LoadgenRun {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'test/bench/loadgen.ts'), JSON.stringify(opts)],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-10_000)));
  let onStart: (t: number) => void = () => undefined;
  let onResult: (r: LoadgenResult) => void = () => undefined;
  const started = new Promise<number>((resolve) => (onStart = resolve));
  const result = new Promise<LoadgenResult>((resolve, reject) => {
    onResult = resolve;
    proc.once('exit', (code) => reject(new Error(`load generator exited with ${code} before reporting:\n${stderr}`)));
  });
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    if (line.startsWith('START ')) onStart(Number(line.slice(6)));
    else if (line.startsWith('RESULT ')) onResult(JSON.parse(line.slice(7)) as LoadgenResult);
  });
  return { proc, started, result };
}
