/**
 * The machine's own ceilings, measured in the same run as the hub so the hub's figures can be read as ratios:
 * QoS 1 through the bench broker to one subscriber, and PostgreSQL multi-row INSERT and COPY into a table shaped
 * exactly like `events` (same indexes).
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { type BenchBroker, HUB_MQTT_USER } from './lib/broker.js';
import { runLoadgen } from './lib/children.js';
import { ProcSampler } from './lib/proc.js';

export interface BrokerCeiling {
  msgPerSec: number;
  received: number;
  published: number;
  seconds: number;
  brokerCpuPct: number;
}

/** QoS 1 publishes from the load generator (one connection per site) to one QoS 1 subscriber, as fast as it goes. */
export async function measureBrokerCeiling(
  broker: BenchBroker,
  sites: string[],
  seconds: number,
): Promise<BrokerCeiling> {
  const sub = await mqtt.connectAsync(broker.url, {
    clientId: `bench-ceiling-sub-${process.pid}`,
    username: HUB_MQTT_USER,
    password: broker.hubPassword,
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: 0,
  });
  let received = 0;
  let first = 0;
  let last = 0;
  sub.on('message', () => {
    received += 1;
    last = performance.now();
    if (received === 1) first = last;
  });
  await sub.subscribeAsync('camhub/v1/+/cameras/bench-ceiling/raw', { qos: 1 });
  const sampler = new ProcSampler(broker.pid).start();
  const run = runLoadgen({
    mode: 'raw',
    url: broker.url,
    topicRoot: 'camhub/v1',
    sites: sites.map((site) => ({ site, password: broker.sitePassword(site) })),
    cameras: sites.length,
    rate: 0,
    seconds,
    duplicateRatio: 0,
    inflightPerConnection: 1000,
  });
  const result = await run.result;
  // Let the last messages in flight arrive.
  const settle = performance.now() + 5000;
  while (received < result.acked && performance.now() < settle) await new Promise((r) => setTimeout(r, 20));
  const usage = sampler.stop();
  await sub.endAsync();
  if (received < 2) {
    // Say why instead of dividing by nothing: refused publishes (ACL: the loadgen's topic) or a subscriber that
    // heard nothing.
    throw new Error(
      `QoS 1 ceiling: the subscriber received ${received} of ${result.published} published (${result.acked} acknowledged, ${result.errors} refused by the broker)`,
    );
  }
  const span = (last - first) / 1000;
  return {
    msgPerSec: received / span,
    received,
    published: result.published,
    seconds: span,
    brokerCpuPct: usage.cpuPct,
  };
}

export interface PostgresCeiling {
  rows: number;
  insertRowsPerSec: number;
  copyRowsPerSec: number;
}

function eventRows(n: number) {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => {
    const at = new Date(now - (n - i)).toISOString();
    return [
      uuidv7(),
      `site-${i % 10}`,
      `cam-${i % 500}`,
      i,
      'motion',
      'start',
      at,
      at,
      'onvif',
      'tns1:RuleEngine/CellMotionDetector/Motion',
      JSON.stringify({ sentAt: now, rule: 'bench' }),
      null,
    ] as const;
  });
}

/** Multi-row INSERT (the hub's unnest shape, 1000 rows per statement) and server-side COPY into an events twin. */
export async function measurePostgresCeiling(databaseUrl: string, rows: number): Promise<PostgresCeiling> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const dir = mkdtempSync(join(tmpdir(), 'camhub-bench-copy-'));
  try {
    await db.query('DROP TABLE IF EXISTS ceiling_events');
    await db.query('CREATE TABLE ceiling_events (LIKE events INCLUDING ALL)');
    const data = eventRows(rows);

    const t0 = performance.now();
    for (let i = 0; i < rows; i += 1000) {
      const chunk = data.slice(i, i + 1000);
      const cols = Array.from({ length: 12 }, (_, c) => chunk.map((r) => r[c]));
      await db.query(
        `INSERT INTO ceiling_events (id, site, camera, seq, type, state, at, received_at, source_kind, source_topic, data, snapshot)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[],
                              $7::timestamptz[], $8::timestamptz[], $9::text[], $10::text[], $11::jsonb[], $12::text[])
         ON CONFLICT (id) DO NOTHING`,
        cols,
      );
    }
    const insertSeconds = (performance.now() - t0) / 1000;

    await db.query('TRUNCATE ceiling_events');
    const csv = join(dir, 'events.csv');
    const quote = (v: string | number | null) => (v === null ? '' : `"${String(v).replaceAll('"', '""')}"`);
    writeFileSync(csv, data.map((r) => r.map(quote).join(',')).join('\n'));
    // The PostgreSQL server process reads the file itself (it runs as another user).
    chmodSync(dir, 0o755);
    chmodSync(csv, 0o644);
    const t1 = performance.now();
    await db.query(
      `COPY ceiling_events (id, site, camera, seq, type, state, at, received_at, source_kind, source_topic, data, snapshot)
       FROM '${csv}' WITH (FORMAT csv)`,
    );
    const copySeconds = (performance.now() - t1) / 1000;
    await db.query('DROP TABLE ceiling_events');
    return { rows, insertRowsPerSec: rows / insertSeconds, copyRowsPerSec: rows / copySeconds };
  } finally {
    await db.end();
    rmSync(dir, { recursive: true, force: true });
  }
}
