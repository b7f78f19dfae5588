import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, REPO_ROOT } from '../../support/processes.js';
import { waitFor } from '../../support/wait.js';
import { type Cleanup, signalAndWait, track } from './cleanup.js';

/**
 * A private redis-server started from the deploy's own deploy/redis/redis.conf (AOF, everysec, noeviction) plus a
 * spare port and a temp dir, so the durability being tested is the one we ship. Restarts reuse the same AOF.
 */
export class PrivateRedis {
  private child: ChildProcess | null = null;
  private log = '';
  readonly url: string;

  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {
    this.url = `redis://127.0.0.1:${port}`;
  }

  static async start(cleanup: Cleanup): Promise<PrivateRedis> {
    const dir = mkdtempSync(join(tmpdir(), 'camhub-fault-redis-'));
    cleanup.defer(`redis dir ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();
    const deployed = readFileSync(join(REPO_ROOT, 'deploy/redis/redis.conf'), 'utf8');
    writeFileSync(
      join(dir, 'redis.conf'),
      `${deployed}\n# --- fault suite: private instance ---\nport ${port}\nbind 127.0.0.1\ndir ${dir}\ndaemonize no\nsave ""\n`,
    );
    const redis = new PrivateRedis(port, dir);
    cleanup.defer(`redis :${port}`, () => redis.kill());
    await redis.start();
    return redis;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    if (this.child) throw new Error('redis is already running');
    const child = track(spawn('redis-server', [join(this.dir, 'redis.conf')], { stdio: ['ignore', 'pipe', 'pipe'] }));
    this.child = child;
    const keep = (d: Buffer) => (this.log = (this.log + d.toString()).slice(-20_000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    // Ready means the AOF has been loaded: PING answers LOADING errors until then.
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`redis exited with ${child.exitCode}:\n${this.log}`);
        const r = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        r.on('error', () => undefined);
        try {
          await r.connect();
          return (await r.ping()) === 'PONG';
        } finally {
          r.disconnect();
        }
      },
      { timeoutMs: 15_000, intervalMs: 50, what: `redis on ${this.port}` },
    );
  }

  async config(key: string): Promise<string> {
    const r = new Redis(this.url, { maxRetriesPerRequest: 1 });
    try {
      const [, value] = (await r.config('GET', key)) as [string, string];
      return value;
    } finally {
      r.disconnect();
    }
  }

  /** SIGTERM: Redis flushes the AOF and exits. */
  async stop(): Promise<void> {
    const c = this.child;
    this.child = null;
    if (c) await signalAndWait(c, 'SIGTERM');
  }

  /** SIGKILL: a crash. With appendfsync everysec, what Redis had written to the AOF is in the page cache and survives. */
  async kill(): Promise<void> {
    const c = this.child;
    this.child = null;
    if (c) await signalAndWait(c, 'SIGKILL');
  }
}
