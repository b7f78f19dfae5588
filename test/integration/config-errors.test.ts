import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUrl, PG_ADMIN_URL } from '../support/db.js';
import { uniqueToken } from '../support/ids.js';
import { REPO_ROOT } from '../support/processes.js';

/** An empty database: if anything ran before the configuration was judged, migrations would leave tables here. */
const dbName = `camhub_test_cfg_${uniqueToken()}`;
let dir: string;

const admin = async (sql: string) => {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
};

beforeAll(async () => {
  await admin(`CREATE DATABASE ${dbName}`);
  dir = await mkdtemp(join(tmpdir(), 'camhub-cfg-'));
});

afterAll(async () => {
  await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  if (dir) await rm(dir, { recursive: true, force: true });
});

function run(entry: string, args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, entry), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('exit', (code) => resolve({ code, stderr }));
  });
}

const tables = async () => {
  const c = new pg.Client({ connectionString: databaseUrl(dbName) });
  await c.connect();
  try {
    return (await c.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`)).rows[0].n as number;
  } finally {
    await c.end();
  }
};

describe('a bad configuration', () => {
  // Each of these used to surface only while plugins registered: after migrations, as a stack trace with exit 1.
  const badEnv = async () => {
    const keyFile = join(dir, 'not-ed25519.pem');
    const { privateKey } = generateKeyPairSync('x25519');
    await writeFile(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    return {
      DATABASE_URL: databaseUrl(dbName),
      REDIS_URL: 'redis://127.0.0.1:6379',
      LOG_LEVEL: 'silent',
      PORT: '0',
      QUEUE_PREFIX: `cfg${uniqueToken()}`,
      HUB_KEY_FILE: keyFile,
      SITE_TIME_ZONES: 'td-01=Mars/Olympus_Mons',
      WEBHOOK_URL: 'http://127.0.0.1:9/hook',
      WEBHOOK_SECRET: '',
      WEBHOOK_ALLOWED_ADDRESSES: 'not-an-address',
    };
  };
  const named = ['HUB_KEY_FILE', 'SITE_TIME_ZONES', 'WEBHOOK_URL', 'WEBHOOK_ALLOWED_ADDRESSES'];

  for (const [entry, args] of [
    ['hub/src/server.ts', []],
    ['hub/src/cli.ts', ['serve']],
    ['hub/src/cli.ts', ['migrate']],
  ] as const) {
    it(`stops ${[entry, ...args].join(' ')} before anything runs: exit 78, every variable named, no stack trace`, async () => {
      const { code, stderr } = await run(entry, [...args], await badEnv());
      expect(stderr).not.toMatch(/^\s+at /m);
      for (const name of named) expect(stderr).toContain(name);
      expect(code).toBe(78);
      expect(await tables()).toBe(0);
    });
  }
});
