import type { ChildProcess } from 'node:child_process';

/**
 * Everything a fault case starts (brokers, Redis, PostgreSQL clusters, hubs, agents, mounts) registers how to undo it
 * here, so a failing or interrupted run still leaves nothing behind. Undo runs newest first.
 */
export class Cleanup {
  private readonly steps: { what: string; undo: () => Promise<void> | void }[] = [];

  defer(what: string, undo: () => Promise<void> | void): void {
    this.steps.push({ what, undo });
  }

  async run(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step.undo();
      } catch (err) {
        // Keep undoing the rest: one stuck step must not leave the others running.
        log(`cleanup of ${step.what} failed: ${(err as Error).message}`);
      }
    }
  }
}

/** Children still alive when the runner exits abruptly (Ctrl-C, uncaught error) are SIGKILLed by pid. */
const live = new Set<ChildProcess>();
export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}
process.once('exit', () => {
  for (const child of live) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Resolves when the child has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function signalAndWait(child: ChildProcess, signal: NodeJS.Signals, timeoutMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = exited(child);
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await done;
  clearTimeout(timer);
}
