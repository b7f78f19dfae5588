import { readdirSync, readFileSync } from 'node:fs';

/** The environment variable every process of one demo run carries (children inherit it, grandchildren too). */
export const RUN_ENV = 'CAMHUB_DEMO_RUN';

/**
 * Pids of live processes that carry `RUN_ENV=runId`: everything one demo run started, however it was started
 * (ffmpeg that an agent spawned in its own process group, GStreamer helpers). Linux only: elsewhere an empty list.
 */
export function processesOfRun(runId: string, exclude: ReadonlySet<number> = new Set()): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const needle = `${RUN_ENV}=${runId}`;
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || exclude.has(Number(entry))) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
    } catch (err) {
      // Gone meanwhile, or another user's process (so not ours).
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ESRCH' || code === 'EACCES' || code === 'EPERM') continue;
      throw err;
    }
    if (environ.split('\0').includes(needle)) found.push(Number(entry));
  }
  return found;
}

/** SIGKILLs whatever of the run is still alive (but not `exclude`); returns how many there were. */
export function sweepRun(runId: string, exclude: ReadonlySet<number> = new Set()): number {
  const pids = processesOfRun(runId, exclude);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
  return pids.length;
}
