import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type HubConfig, loadConfig } from '../../../hub/src/config.js';
import { uniqueToken } from '../../support/ids.js';
import { type HubProcess, spawnHubProcess } from './hub-process.js';
import { type Cleanup, track } from './cleanup.js';
import { ProductionMosquitto } from '../../support/mosquitto.js';
import { PrivatePostgres } from './postgres.js';
import { PrivateRedis } from './redis.js';

export const FAULT_SITE = 'fault-site';

/** One case's private world: its own broker, Redis, PostgreSQL database, and the hubs it starts. */
export interface Stack {
  cleanup: Cleanup;
  broker: ProductionMosquitto;
  redis: PrivateRedis;
  postgres: PrivatePostgres;
  databaseUrl: string;
  db: pg.Pool;
  /** A hub config wired to the private services; each call gets its own MQTT client id unless given one. */
  hubConfig: (overrides?: Partial<HubConfig>) => HubConfig;
  startHub: (config: HubConfig) => Promise<HubProcess>;
  hubs: HubProcess[];
}

export interface StackOptions {
  /** The suite shares one PostgreSQL cluster across cases unless a case must restart it. */
  postgres?: PrivatePostgres;
  sites?: string[];
  /** When set, the hub reaches PostgreSQL on this port (a TcpProxy in front of the cluster). */
  postgresPort?: () => number;
}

export async function startStack(cleanup: Cleanup, opts: StackOptions = {}): Promise<Stack> {
  const [broker, redis, postgres] = await Promise.all([
    ProductionMosquitto.start(opts.sites ?? [FAULT_SITE], { onSpawn: track }).then((broker) => {
      cleanup.defer(`mosquitto :${broker.port}`, () => broker.remove());
      return broker;
    }),
    PrivateRedis.start(cleanup),
    opts.postgres ? Promise.resolve(opts.postgres) : PrivatePostgres.start(cleanup),
  ]);
  const databaseUrl = await postgres.createDatabase();
  const db = new pg.Pool({ connectionString: databaseUrl, max: 3 });
  db.on('error', () => undefined); // the cluster may be restarted under the pool on purpose
  cleanup.defer('counting pool', () => db.end());
  const dir = mkdtempSync(join(tmpdir(), 'camhub-fault-hub-'));
  cleanup.defer(`hub dir ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const hubs: HubProcess[] = [];
  cleanup.defer('hubs', async () => {
    await Promise.all(hubs.map((h) => h.stop('SIGKILL')));
  });
  const hubDatabaseUrl = () => {
    if (!opts.postgresPort) return databaseUrl;
    const u = new URL(databaseUrl);
    u.port = String(opts.postgresPort());
    return u.toString();
  };
  return {
    cleanup,
    broker,
    redis,
    postgres,
    databaseUrl,
    db,
    hubs,
    hubConfig: (overrides = {}) =>
      loadConfig(
        {},
        {
          DATABASE_URL: hubDatabaseUrl(),
          REDIS_URL: redis.url,
          MQTT_URL: broker.url,
          MQTT_USERNAME: 'camhub.hub',
          MQTT_PASSWORD: broker.hubPassword,
          MQTT_TOPIC_ROOT: 'camhub/v1',
          MQTT_CLIENT_ID: `camhub-fault-${uniqueToken()}`,
          QUEUE_PREFIX: 'camhub',
          SNAPSHOT_DIR: join(dir, 'snapshots'),
          EXPORT_DIR: join(dir, 'exports'),
          HUB_KEY_FILE: join(dir, 'hub-ed25519.pem'),
          LOG_LEVEL: 'warn',
          PORT: 0,
          HOST: '127.0.0.1',
          ...overrides,
        },
      ),
    startHub: async (config) => {
      const hub = await spawnHubProcess(config);
      hubs.push(hub);
      return hub;
    },
  };
}

export interface StoredCounts {
  /** Event rows. */
  rows: number;
  distinctIds: number;
  /** Distinct (camera, seq): two rows for one seq would be one event stored twice under two ids. */
  distinctSeqs: number;
}

export async function storedCounts(db: pg.Pool, site = FAULT_SITE): Promise<StoredCounts> {
  const { rows } = await db.query(
    `SELECT count(*)::int AS rows, count(DISTINCT id)::int AS ids, count(DISTINCT (camera, seq))::int AS seqs
       FROM events WHERE site = $1`,
    [site],
  );
  return { rows: rows[0].rows, distinctIds: rows[0].ids, distinctSeqs: rows[0].seqs };
}

/** Which of `ids` are not stored (checked in chunks). */
export async function missingIds(db: pg.Pool, ids: string[]): Promise<string[]> {
  const missing: string[] = [];
  for (let i = 0; i < ids.length; i += 5000) {
    const chunk = ids.slice(i, i + 5000);
    const { rows } = await db.query(
      `SELECT x FROM unnest($1::uuid[]) AS x WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = x)`,
      [chunk],
    );
    missing.push(...rows.map((r) => r.x as string));
  }
  return missing;
}

/** A counter from the hub's /metrics (summed over labels), or null when the hub does not answer. */
export async function hubMetric(hubUrl: string, name: string): Promise<number | null> {
  try {
    const text = await (await fetch(`${hubUrl}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
    let sum = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{')) {
        sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  } catch (err) {
    if ((err as Error).name === 'TimeoutError' || (err as Error).name === 'TypeError') return null;
    throw err;
  }
}
