import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DemoError } from './errors.js';

const REAPER = join(dirname(fileURLToPath(import.meta.url)), 'reaper.ts');

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedChild {
  name: string;
  pid: number;
  logFile: string;
  exited: Promise<ChildExit>;
  /** Whether it has exited. */
  readonly done: boolean;
  /** The last lines of its log, for error messages. */
  tail(lines?: number): string;
}

export interface SpawnSpec {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  logFile: string;
}

function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    // A negative pid addresses the whole process group: the child and whatever it spawned (ffmpeg, GStreamer).
    process.kill(-pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/**
 * The demo's child processes. Each runs in its own process group (so Ctrl-C in the terminal reaches only the demo,
 * which then stops them in order) with its output in a log file. `stop` ends a whole group: SIGTERM, then SIGKILL
 * after a grace period, then SIGKILL again for anything the leader left behind.
 */
export class Children {
  private readonly children: ManagedChild[] = [];
  private unexpectedExit: ((child: ManagedChild, exit: ChildExit) => void) | null = null;
  private readonly stopping = new Set<string>();
  private closed = false;
  private reaper: ChildProcess | null = null;
  private reaperExited: Promise<void> = Promise.resolve();

  constructor(private readonly runId: string) {}

  /** Starts the dead man's switch (reaper.ts) that ends every group should this process die without stopping them. */
  arm(reaperLogFile: string): void {
    const fd = openSync(reaperLogFile, 'a');
    try {
      this.reaper = spawn(process.execPath, ['--import', 'tsx', REAPER, this.runId], {
        detached: true,
        stdio: ['pipe', 'ignore', fd],
      });
    } finally {
      closeSync(fd);
    }
    const reaper = this.reaper;
    this.reaperExited = new Promise((resolve) => reaper.once('exit', () => resolve()));
    reaper.stdin!.on('error', (err) => process.stderr.write(`demo: the reaper's pipe failed: ${err.message}\n`));
  }

  get reaperPid(): number | null {
    return this.reaper?.pid ?? null;
  }

  private tellReaper(line: string): void {
    if (this.reaper?.stdin?.writable) this.reaper.stdin.write(`${line}\n`);
  }

  /** Everything is stopped: the reaper may go without doing anything. */
  async disarm(): Promise<void> {
    if (!this.reaper) return;
    this.tellReaper('done');
    this.reaper.stdin!.end();
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5000).unref());
    if ((await Promise.race([this.reaperExited, timeout])) === 'timeout') this.reaper.kill('SIGKILL');
  }

  onUnexpectedExit(handler: (child: ManagedChild, exit: ChildExit) => void): void {
    this.unexpectedExit = handler;
  }

  get all(): readonly ManagedChild[] {
    return this.children;
  }

  /** No more starts: shutdown has begun, and a child started now would outlive it. */
  close(): void {
    this.closed = true;
  }

  start(spec: SpawnSpec): ManagedChild {
    if (this.closed) throw new DemoError('stopping', `not starting ${spec.name}: the demo is stopping`);
    const fd = openSync(spec.logFile, 'a');
    let proc: ChildProcess;
    try {
      proc = spawn(spec.command, spec.args, {
        cwd: spec.cwd,
        env: spec.env,
        detached: true,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      // The child holds its own copy of the descriptor.
      closeSync(fd);
    }
    if (proc.pid) this.tellReaper(`+${proc.pid}`);
    let done = false;
    const exited = new Promise<ChildExit>((resolve) => {
      proc.once('exit', (code, signal) => {
        done = true;
        resolve({ code, signal });
      });
      proc.once('error', (err) => {
        done = true;
        resolve({ code: -1, signal: null });
        process.stderr.write(`demo: cannot start ${spec.name}: ${err.message}\n`);
      });
    });
    const child: ManagedChild = {
      name: spec.name,
      pid: proc.pid ?? -1,
      logFile: spec.logFile,
      exited,
      get done() {
        return done;
      },
      tail: (lines = 15) => {
        try {
          return readFileSync(spec.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
        } catch (err) {
          return `(no log: ${(err as Error).message})`;
        }
      },
    };
    this.children.push(child);
    void exited.then((exit) => {
      if (!this.stopping.has(child.name)) this.unexpectedExit?.(child, exit);
    });
    return child;
  }

  /** Ends one child's process group; resolves once the leader has exited and stragglers are killed. */
  async stop(child: ManagedChild, graceMs: number): Promise<void> {
    this.stopping.add(child.name);
    if (child.pid > 0 && !child.done) {
      signalGroup(child.pid, 'SIGTERM');
      const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
      if ((await Promise.race([child.exited, timer])) === 'timeout') {
        process.stderr.write(`demo: ${child.name} did not stop within ${graceMs} ms; killing it\n`);
        signalGroup(child.pid, 'SIGKILL');
        await child.exited;
      }
    }
    // Helpers the leader spawned (ffmpeg) may outlive it in the same group.
    if (child.pid > 0) {
      signalGroup(child.pid, 'SIGKILL');
      this.tellReaper(`-${child.pid}`);
    }
  }

  /** Kills every group at once, no grace: the second Ctrl-C. */
  killAll(): void {
    for (const child of this.children) {
      this.stopping.add(child.name);
      if (child.pid > 0) signalGroup(child.pid, 'SIGKILL');
    }
  }
}
