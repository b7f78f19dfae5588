import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { migrate } from '../../../hub/src/db/migrate.js';
import { uniqueToken } from '../../support/ids.js';
import { freePort } from '../../support/processes.js';
import type { Cleanup } from './cleanup.js';

const run = promisify(execFile);
const BIN = process.env.CAMHUB_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const PG_USER = 'postgres';

/** initdb and pg_ctl refuse to run as root: as root, run them as the postgres user; otherwise as ourselves. */
function asPostgres(cmd: string, args: string[]) {
  const isRoot = process.getuid?.() === 0;
  return isRoot ? run('runuser', ['-u', PG_USER, '--', join(BIN, cmd), ...args]) : run(join(BIN, cmd), args);
}

/**
 * A private PostgreSQL cluster in a temp dir on a spare port (never the shared 5432), so a case can restart it,
 * crash it (`immediate`) or keep it down. Settings are PostgreSQL's durable defaults (fsync on,
 * synchronous_commit on, full_page_writes on): a committed batch survives a crash.
 */
export class PrivatePostgres {
  private running = false;
  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  static async start(cleanup: Cleanup): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'camhub-fault-pg-'));
    if (process.getuid?.() === 0) {
      const { stdout } = await run('id', ['-u', PG_USER]);
      const { stdout: gid } = await run('id', ['-g', PG_USER]);
      chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
    }
    cleanup.defer(`postgres dir ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();
    await asPostgres('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    const cluster = new PrivatePostgres(port, dir);
    cleanup.defer(`postgres :${port}`, () => cluster.stop('immediate'));
    await cluster.start();
    return cluster;
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    await asPostgres('pg_ctl', [
      '-D',
      join(this.dir, 'data'),
      '-l',
      join(this.dir, 'server.log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c max_connections=200`,
      'start',
    ]);
    this.running = true;
  }

  /** `fast`: a clean shutdown (sessions cut, checkpoint). `immediate`: like a crash (WAL replay on start). */
  async stop(mode: 'fast' | 'immediate'): Promise<void> {
    if (!this.running) return;
    await asPostgres('pg_ctl', ['-D', join(this.dir, 'data'), '-m', mode, '-w', 'stop']);
    this.running = false;
  }

  async restart(mode: 'fast' | 'immediate'): Promise<void> {
    await this.stop(mode);
    await this.start();
  }

  /** A new, migrated database in this cluster. */
  async createDatabase(): Promise<string> {
    const name = `camhub_fault_${uniqueToken()}`;
    const c = new pg.Client({ connectionString: this.url() });
    await c.connect();
    try {
      await c.query(`CREATE DATABASE ${name}`);
    } finally {
      await c.end();
    }
    await migrate(this.url(name));
    return this.url(name);
  }
}
