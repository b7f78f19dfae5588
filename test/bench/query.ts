/**
 * History queries through the real hub HTTP API on a large stored dataset: 500 cameras over 20 sites, 30 days.
 * The dataset is generated server-side (INSERT … SELECT generate_series, in chunks, secondary indexes built after)
 * into a database kept between runs (`camhub_bench_query_<n>`), and reused when it already has the right shape.
 */
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../../hub/src/db/migrate.js';
import { loadConfig } from '../../hub/src/config.js';
import { databaseUrl } from '../support/db.js';
import { uniqueToken } from '../support/ids.js';
import { REPO_ROOT } from '../support/processes.js';
import type { BenchBroker } from './lib/broker.js';
import { HUB_MQTT_USER } from './lib/broker.js';
import { adminQuery } from './lib/db.js';
import { startHub } from './lib/hub.js';
import { loadAverage } from './lib/proc.js';
import { fmt, type Row, summary } from './lib/stats.js';

export interface QueryOptions {
  events: number;
  cameras: number;
  days: number;
  requests: number;
  /** Write a V8 CPU profile of the hub to bench-results/profiles. */
  profile?: boolean;
}

const SITES = 20;
const CHUNK = 1_000_000;
/** 2: events partitioned by the day of their id (migration 015); a version-1 dataset is dropped and rebuilt. */
const DATASET_VERSION = 2;

/** 500 cameras with a full latest health sample each, as GET /api/v1/cameras serves them (rewritten every run). */
async function seedCameras(db: pg.Client, o: QueryOptions) {
  const perSite = o.cameras / SITES;
  await db.query('DELETE FROM cameras');
  await db.query(
    `INSERT INTO cameras (site, camera, name, last_seen_at, last_event_at, health_at, health, status, status_since)
     SELECT site, camera, 'Camera ' || c, now(), now(), now(),
            jsonb_build_object('v', 1, 'site', site, 'camera', camera, 'at', $3::text, 'status', 'online',
              'onvif', jsonb_build_object('reachable', true, 'latencyMs', 40, 'eventsSubscribed', true,
                                          'lastPullAt', $3::text, 'clockSkewMs', 12),
              'stream', jsonb_build_object('ok', true, 'codec', 'h264', 'width', 1920, 'height', 1080, 'fps', 12.5,
                                           'bitrateKbps', 2048, 'frozen', false, 'black', false),
              'problems', '[]'::jsonb),
            'online', now()
     FROM (SELECT c, 'qsite-' || lpad((c / $1)::text, 2, '0') AS site, 'cam-' || lpad((c % $1)::text, 3, '0') AS camera
           FROM generate_series(0, $2 - 1) AS c) x`,
    [perSite, o.cameras, new Date().toISOString()],
  );
  await db.query('ANALYZE cameras');
}

/** The dataset version recorded in a kept database (0: none). */
async function datasetVersion(url: string): Promise<number> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const has = await db.query<{ has: boolean }>(`SELECT to_regclass('bench_meta') IS NOT NULL AS has`);
    if (!has.rows[0]!.has) return 0;
    const meta = await db.query<{ version: number }>('SELECT version FROM bench_meta');
    return meta.rows[0]?.version ?? 0;
  } finally {
    await db.end();
  }
}

async function ensureDataset(o: QueryOptions, log: (m: string) => void) {
  // BENCH_QUERY_DB names the kept database instead (a private copy on a shared machine).
  const name = process.env.BENCH_QUERY_DB ?? `camhub_bench_query_${o.events >= 1e6 ? `${o.events / 1e6}m` : o.events}`;
  const url = databaseUrl(name);
  let exists = (await adminQuery('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  if (exists && (await datasetVersion(url)) !== DATASET_VERSION) {
    // Migrating an older layout would copy every row once more; building afresh is as quick and leaves it tidy.
    log(`query: dropping ${name} (an older dataset layout)`);
    await adminQuery(`DROP DATABASE ${name}`);
    exists = false;
  }
  if (!exists) await adminQuery(`CREATE DATABASE ${name}`);
  await migrate(url);
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    await db.query(
      'CREATE TABLE IF NOT EXISTS bench_meta (events bigint, cameras int, days int, version int, start_ms bigint)',
    );
    const meta = (await db.query('SELECT * FROM bench_meta')).rows[0] as
      { events: string; cameras: number; days: number; version: number; start_ms: string } | undefined;
    if (
      meta &&
      Number(meta.events) === o.events &&
      meta.cameras === o.cameras &&
      meta.days === o.days &&
      meta.version === DATASET_VERSION
    ) {
      log(`query: reusing dataset ${name} (${fmt(o.events)} events, kept between runs)`);
      await seedCameras(db, o);
      return { name, url, startMs: Number(meta.start_ms), reused: true, buildSeconds: 0 };
    }
    log(`query: building dataset ${name}: ${fmt(o.events)} events, ${o.cameras} cameras, ${o.days} days`);
    const t0 = Date.now();
    await db.query('TRUNCATE events, cameras, bench_meta');
    // Bulk load without the secondary indexes, then build them once: several times faster than maintaining them.
    const indexes = (
      await db.query<{ name: string; def: string }>(
        `SELECT indexname AS name, indexdef AS def FROM pg_indexes
         WHERE tablename = 'events' AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'events'::regclass)`,
      )
    ).rows;
    for (const ix of indexes) await db.query(`DROP INDEX ${ix.name}`);
    const spanMs = o.days * 86_400_000;
    const startMs = Date.now() - spanMs;
    // One partition per day of the history (the hub's maintenance creates only the days ahead).
    await db.query(
      `SELECT events_add_partition((d AT TIME ZONE 'UTC')::date)
       FROM generate_series(to_timestamp($1 / 1000.0), now() + interval '7 days', interval '1 day') AS d`,
      [startMs],
    );
    const perSite = o.cameras / SITES;
    for (let lo = 0; lo < o.events; lo += CHUNK) {
      const hi = Math.min(o.events, lo + CHUNK);
      await db.query(
        `INSERT INTO events (id, site, camera, seq, type, state, at, received_at, source_kind, source_topic, data, stored_at)
         SELECT (lpad(to_hex(ms), 12, '0') || '7' || substr(h, 1, 3) || '8' || substr(h, 4, 15))::uuid,
                'qsite-' || lpad((cam / $5)::text, 2, '0'), 'cam-' || lpad((cam % $5)::text, 3, '0'),
                i / $4, type, CASE WHEN type = 'motion' THEN (CASE WHEN i % 2 = 0 THEN 'start' ELSE 'end' END) ELSE 'pulse' END,
                to_timestamp(ms / 1000.0), to_timestamp((ms + 150) / 1000.0), 'onvif',
                CASE type WHEN 'motion' THEN 'tns1:RuleEngine/CellMotionDetector/Motion'
                          WHEN 'tamper' THEN 'tns1:RuleEngine/TamperDetector/Tamper'
                          WHEN 'digital_input' THEN 'tns1:Device/Trigger/DigitalInput'
                          ELSE 'tns1:RuleEngine/FieldDetector/ObjectsInside' END,
                CASE WHEN i % 4 = 0 THEN '{"rule":"MyMotionDetectorRule"}'::jsonb END,
                to_timestamp((ms + 200) / 1000.0)
         FROM (SELECT i, $3::bigint + (i::bigint * $6::bigint / $7::bigint) AS ms, md5(i::text) AS h, i % $4 AS cam,
                      CASE i % 20 WHEN 0 THEN 'tamper' WHEN 1 THEN 'digital_input' WHEN 2 THEN 'intrusion'
                                  WHEN 3 THEN 'intrusion' ELSE 'motion' END AS type
               FROM generate_series($1::bigint, $2::bigint - 1) AS i) g`,
        [lo, hi, startMs, o.cameras, perSite, spanMs, o.events],
      );
      log(`  ${fmt(hi)} / ${fmt(o.events)} rows`);
    }
    await db.query(`SET maintenance_work_mem = '512MB'`);
    for (const ix of indexes) {
      log(`  building ${ix.name}`);
      // pg_indexes shows a partitioned index as `ON ONLY events`, which would build nothing on the partitions.
      await db.query(ix.def.replace(' ON ONLY ', ' ON '));
    }
    log('  VACUUM ANALYZE');
    await db.query('VACUUM ANALYZE events');
    await db.query('INSERT INTO bench_meta VALUES ($1, $2, $3, $4, $5)', [
      o.events,
      o.cameras,
      o.days,
      DATASET_VERSION,
      startMs,
    ]);
    await seedCameras(db, o);
    const buildSeconds = Math.round((Date.now() - t0) / 1000);
    log(`  dataset built in ${buildSeconds} s`);
    return { name, url, startMs, reused: false, buildSeconds };
  } finally {
    await db.end();
  }
}

export async function runQuery(broker: BenchBroker, o: QueryOptions, log: (m: string) => void) {
  const ds = await ensureDataset(o, log);
  const password = `bench-${uniqueToken()}`;
  const config = loadConfig(
    {},
    {
      DATABASE_URL: ds.url,
      MQTT_URL: broker.url,
      MQTT_USERNAME: HUB_MQTT_USER,
      MQTT_PASSWORD: broker.hubPassword,
      MQTT_CLIENT_ID: `camhub-bench-query-${uniqueToken()}`,
      QUEUE_PREFIX: `camhub-bench-${uniqueToken()}`,
      LOG_LEVEL: 'warn',
    },
  );
  const cpuProfileDir = o.profile ? join(REPO_ROOT, `bench-results/profiles/hub-query-${Date.now()}`) : undefined;
  const hub = await startHub(config, { env: { CAMHUB_ADMIN_PASSWORD: password }, cpuProfileDir });
  try {
    const headers: Record<string, string> = {};
    // Access control: when the API asks for it, log in as the admin the hub created from CAMHUB_ADMIN_PASSWORD.
    if ((await fetch(`${hub.url}/api/v1/cameras`)).status === 401) {
      const res = await fetch(`${hub.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password }),
      });
      if (!res.ok) throw new Error(`bench login failed: ${res.status} ${await res.text()}`);
      headers.authorization = `Bearer ${((await res.json()) as { token: string }).token}`;
    }
    const get = async (path: string) => {
      const t = performance.now();
      const res = await fetch(`${hub.url}${path}`, { headers });
      const body = (await res.json()) as { items?: unknown[]; nextCursor?: string | null };
      const ms = performance.now() - t;
      if (!res.ok) {
        throw new Error(
          `GET ${path}: ${res.status} ${JSON.stringify(body).slice(0, 300)}\nhub: ${hub.output().slice(-2000)}`,
        );
      }
      return { ms, body };
    };
    const perSite = o.cameras / SITES;
    const pick = (n: number) => Math.floor(Math.random() * n);
    const site = () => `qsite-${String(pick(SITES)).padStart(2, '0')}`;
    const dayMs = 86_400_000;
    const iso = (ms: number) => new Date(ms).toISOString();
    const shapes: Record<string, () => string> = {
      'one camera, one day': () => {
        const from = ds.startMs + pick(o.days - 1) * dayMs;
        return `/api/v1/events?site=${site()}&camera=cam-${String(pick(perSite)).padStart(3, '0')}&from=${iso(from)}&to=${iso(from + dayMs)}&limit=100`;
      },
      'one site, one week': () => {
        const from = ds.startMs + pick(o.days - 7) * dayMs;
        return `/api/v1/events?site=${site()}&from=${iso(from)}&to=${iso(from + 7 * dayMs)}&limit=100`;
      },
      'type filter (tamper, 5 %), all sites': () => `/api/v1/events?type=tamper&limit=100`,
      'type filter, one site': () => `/api/v1/events?site=${site()}&type=digital_input&limit=100`,
      'cameras list (500)': () => `/api/v1/cameras`,
    };
    const result: Record<string, ReturnType<typeof summary>> = {};
    const rows: Row[] = [];
    log(`query: ${o.requests} requests per shape`);
    for (const [label, path] of Object.entries(shapes)) {
      for (let i = 0; i < 5; i++) await get(path()); // warm-up
      const ms: number[] = [];
      for (let i = 0; i < o.requests; i++) ms.push((await get(path())).ms);
      result[label] = summary(ms);
    }
    // Deep keyset pages: follow nextCursor through one site's history; every page should cost the same.
    const deep: number[] = [];
    const walks = Math.max(2, Math.round(o.requests / 20));
    for (let w = 0; w < walks; w++) {
      let cursor: string | null | undefined = null;
      const s = site();
      for (let page = 0; page < 40; page++) {
        const path = `/api/v1/events?site=${s}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const r = await get(path);
        if (page >= 10) deep.push(r.ms);
        cursor = r.body.nextCursor;
        if (!cursor) break;
      }
    }
    result['deep keyset pages (11th-40th)'] = summary(deep);
    for (const [label, s] of Object.entries(result)) {
      const isCameras = label.startsWith('cameras');
      const limit = isCameras ? 30 : 50;
      rows.push({
        section: `query ${fmt(o.events / 1e6)} M`,
        metric: `${label} p50/p99 ms`,
        value: `${s.p50} / ${s.p99}`,
        target: `p99 ≤ ${limit}`,
        ok: s.p99 <= limit,
      });
    }
    return {
      result: { dataset: ds, shapes: result, loadAvg: loadAverage() },
      rows,
    };
  } finally {
    await hub.stop();
  }
}
