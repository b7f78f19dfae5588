import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import pg from 'pg';
import { MIGRATIONS_DIR, migrate } from '../../hub/src/db/migrate.js';
import { uniqueToken } from './ids.js';

export const PG_ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function databaseUrl(name: string): string {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Name of the migrated template: changes whenever a migration file changes, so stale templates are never used. */
export async function templateName(): Promise<string> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).sort();
  const h = createHash('sha256');
  for (const f of files) h.update(f).update(await readFile(`${MIGRATIONS_DIR}/${f}`));
  return `camhub_tpl_${h.digest('hex').slice(0, 12)}`;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Migrates the template database once (idempotent; safe when several test runs start at once). */
export async function ensureTemplate(): Promise<string> {
  const name = await templateName();
  await admin(async (c) => {
    await c.query('SELECT pg_advisory_lock(4242)');
    try {
      const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (!rowCount) {
        const building = `${name}_build_${uniqueToken()}`;
        await c.query(`CREATE DATABASE ${building}`);
        await migrate(databaseUrl(building));
        await c.query(`ALTER DATABASE ${building} RENAME TO ${name}`);
      }
    } finally {
      await c.query('SELECT pg_advisory_unlock(4242)');
    }
  });
  return name;
}

export interface TestDatabase {
  name: string;
  url: string;
  drop: () => Promise<void>;
}

/** A fresh, migrated database of its own for one test file (cloned from the template: fast). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const template = await ensureTemplate();
  const name = `camhub_test_${uniqueToken()}`;
  await admin(async (c) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
        return;
      } catch (err) {
        // 55006: the template is busy (another file is cloning it right now); try again shortly.
        if ((err as { code?: string }).code !== '55006' || attempt > 50) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  });
  return {
    name,
    url: databaseUrl(name),
    drop: () => admin(async (c) => void (await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
  };
}
