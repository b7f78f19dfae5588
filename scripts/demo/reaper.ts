import { sweepRun } from './sweep.js';

/**
 * The demo's dead man's switch, a process of its own (own process group, so Ctrl-C does not reach it). The demo
 * tells it, on stdin, which process groups it started ("+pgid", "-pgid") and says "done" when it has stopped them
 * itself. If stdin closes without "done", the demo died without cleaning up (kill -9, a crash): the reaper then ends
 * every group still listed (SIGTERM, then SIGKILL) and anything else carrying the run's marker, and exits.
 */
const runId = process.argv[2];
if (!runId) {
  process.stderr.write('usage: reaper.ts <run id>\n');
  process.exit(2);
}
const groups = new Set<number>();
let done = false;
let buffered = '';

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  buffered += chunk;
  const lines = buffered.split('\n');
  buffered = lines.pop() ?? '';
  for (const line of lines) {
    if (line === 'done') done = true;
    else if (/^[+-]\d+$/.test(line)) {
      const pgid = Number(line.slice(1));
      if (line.startsWith('+')) groups.add(pgid);
      else groups.delete(pgid);
    }
  }
});
process.stdin.on('close', () => {
  if (done) process.exit(0);
  for (const pgid of groups) signalGroup(pgid, 'SIGTERM');
  setTimeout(() => {
    for (const pgid of groups) signalGroup(pgid, 'SIGKILL');
    const swept = sweepRun(runId, new Set([process.pid]));
    process.stderr.write(`camhub demo reaper: the demo died; ended ${groups.size} group(s), ${swept} straggler(s)\n`);
    process.exit(0);
  }, 3000);
});
// Signals meant for the terminal's job must not end the switch before the demo does.
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);
