import pg from 'pg';
import { migrate } from '../../../hub/src/db/migrate.js';
import { databaseUrl, PG_ADMIN_URL } from '../../support/db.js';
import { uniqueToken } from '../../support/ids.js';

export async function adminQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values: unknown[] = []) {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return await c.query<T>(sql, values);
  } finally {
    await c.end();
  }
}

export interface BenchDatabase {
  name: string;
  url: string;
  drop: () => Promise<void>;
}

/**
 * A fresh database for one scenario, dropped at its end. `migrated`: apply this checkout's migrations now; otherwise
 * the hub under test migrates it when it starts (so a BENCH_HUB_ROOT hub brings its own schema).
 */
export async function createBenchDatabase(label: string, opts: { migrated: boolean }): Promise<BenchDatabase> {
  const name = `camhub_bench_${label}_${uniqueToken()}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = databaseUrl(name);
  if (opts.migrated) await migrate(url);
  return { name, url, drop: async () => void (await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)) };
}

export async function postgresVersion(): Promise<string> {
  const { rows } = await adminQuery<{ v: string }>(`SELECT current_setting('server_version') AS v`);
  return rows[0]!.v;
}
