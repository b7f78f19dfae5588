/**
 * Ingest scenarios against the real hub process(es): the load generator publishes through the bench broker, the hub
 * batches into BullMQ (Redis) and writes PostgreSQL; every figure about what was stored is counted in PostgreSQL.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../hub/src/config.js';
import { deleteQueueKeys } from '../support/hub.js';
import { uniqueToken } from '../support/ids.js';
import { REPO_ROOT } from '../support/processes.js';
import { type BenchBroker, HUB_MQTT_USER } from './lib/broker.js';
import { runLoadgen } from './lib/children.js';
import { type BenchHub, startHub } from './lib/hub.js';
import { createBenchDatabase } from './lib/db.js';
import { cpuSeconds, loadAverage, machineTicks, type ProcUsage, ProcSampler } from './lib/proc.js';
import { round } from './lib/stats.js';
import type { LoadgenResult } from './loadgen.js';

export interface IngestScenario {
  name: string;
  hubs: number;
  rate: number;
  seconds: number;
  sites: string[];
  cameras: number;
  duplicateRatio: number;
  /** Hold an exclusive lock on `events` for this long, starting this many seconds in: PostgreSQL slower than input. */
  stall?: { afterSec: number; seconds: number };
  /** Extra hub environment (e.g. a lower INGEST_MAX_QUEUED_BATCHES to show the backpressure step). */
  hubEnv?: Record<string, string>;
  /** Write a V8 CPU profile of each hub to bench-results/profiles. */
  profile?: boolean;
  /** Longest wait for the hub to store its backlog once publishing ended; what is left then is reported. */
  drainCapSec: number;
}

export interface IngestResult {
  scenario: string;
  hubs: number;
  offeredRate: number;
  seconds: number;
  loadgen: LoadgenResult;
  stored: number;
  lost: number;
  duplicatesStored: number;
  /** Unique events stored / (last commit − first publish): the rate the whole pipeline sustained. */
  storedPerSec: number;
  /** Seconds between the end of publishing and the last commit (how far behind the hub ended). */
  drainSeconds: number;
  /** Unique events not yet stored when the drain wait was cut (the drain cap or 20 s without progress). */
  remainingAtCap: number;
  /** The drain wait ended on its cap with events still arriving (not a loss: the hub was still catching up). */
  drainCapped: boolean;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  hubCpuPct: number[];
  /** Each hub's CPU at rest (3 s before the first message), % of a core. */
  hubIdleCpuPct: number[];
  /** Unique events stored per CPU second of all hubs together (the cost per event, less sensitive to the load). */
  eventsPerHubCpuSec: number;
  /** Share of the machine's CPU time left idle while the load generator ran and the hubs drained, %. */
  machineIdlePct: number;
  hubRssMaxMiB: number[];
  brokerCpuPct: number;
  /** Highest values seen on the hub's /metrics while it ran (backpressure). */
  maxQueueDepth: number;
  maxPendingAcks: number;
  hubDuplicatesSeen: number;
  /** Alert evaluations still owed (alert_outbox) when the drain ended: batches, and the events they hold. */
  alertsOwed: { batches: number; events: number };
  loadAvg: [number, number, number];
  profiles?: string[];
  /** Sampled every 100 ms: what PostgreSQL's sessions for this database were doing (statement or wait), most first. */
  postgresActivity?: { what: string; samples: number }[];
}

/** The main-thread profile of each hub: the largest file in each hub's profile directory. */
function mainThreadProfiles(dirs: string[]): string[] {
  return dirs.flatMap((d) => {
    const files = readdirSync(d).map((f) => join(d, f));
    return files.sort((a, b) => statSync(b).size - statSync(a).size).slice(0, 1);
  });
}

/** Sums one metric family (all label sets) from a Prometheus text exposition. */
function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export async function runIngest(
  broker: BenchBroker,
  s: IngestScenario,
  log: (m: string) => void,
): Promise<IngestResult> {
  const db = await createBenchDatabase('ingest', { migrated: false });
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  const queuePrefix = `camhub-bench-${uniqueToken()}`;
  const profileDir = join(REPO_ROOT, 'bench-results/profiles');
  const hubs: BenchHub[] = [];
  const samplers: ProcSampler[] = [];
  let stallClient: pg.Client | null = null;
  try {
    const base = loadConfig(
      {},
      {
        DATABASE_URL: db.url,
        MQTT_URL: broker.url,
        MQTT_USERNAME: HUB_MQTT_USER,
        MQTT_PASSWORD: broker.hubPassword,
        MQTT_TOPIC_ROOT: 'camhub/v1',
        QUEUE_PREFIX: queuePrefix,
        LOG_LEVEL: 'warn',
        ...(s.hubs > 1 ? { MQTT_SHARE_GROUP: 'bench' } : {}),
      },
    );
    if (s.profile) mkdirSync(profileDir, { recursive: true });
    const profileDirs: string[] = [];
    for (let i = 0; i < s.hubs; i++) {
      const cpuProfileDir = s.profile ? join(profileDir, `hub-${s.name}-${i}-${Date.now()}`) : undefined;
      if (cpuProfileDir) profileDirs.push(cpuProfileDir);
      hubs.push(
        await startHub(
          { ...base, MQTT_CLIENT_ID: `camhub-bench-${uniqueToken()}` },
          {
            env: s.hubEnv,
            cpuProfileDir,
          },
        ),
      );
    }
    // Let every hub's subscription settle before the first message.
    await new Promise((r) => setTimeout(r, 500));

    let maxQueueDepth = 0;
    let maxPendingAcks = 0;
    let hubDuplicatesSeen = 0;
    const scrape = async () => {
      let depth = 0;
      let pending = 0;
      let dups = 0;
      for (const h of hubs) {
        const text = await (await fetch(`${h.url}/metrics`)).text();
        depth = Math.max(depth, metricSum(text, 'camhub_ingest_queue_depth'));
        pending += metricSum(text, 'camhub_ingest_pending_acks');
        dups += metricSum(text, 'camhub_ingest_events_duplicate_total');
      }
      maxQueueDepth = Math.max(maxQueueDepth, depth);
      maxPendingAcks = Math.max(maxPendingAcks, pending);
      if (process.env.BENCH_DEBUG) log(`  depth ${depth} pending ${pending}`);
      hubDuplicatesSeen = dups;
    };
    const scraper = setInterval(() => {
      scrape().catch((err: Error) => log(`  (metrics scrape failed: ${err.message})`));
    }, 500);

    // Where PostgreSQL time goes, by sampling its sessions: the statement running, or what it waits for.
    const activity = new Map<string, number>();
    const activityPool = new pg.Pool({ connectionString: db.url, max: 1 });
    const activityTimer = s.profile
      ? setInterval(() => {
          activityPool
            .query<{ what: string }>(
              `SELECT coalesce(wait_event_type || ':' || wait_event || ' ', '') || regexp_replace(left(query, 60), '\\s+', ' ', 'g') AS what
               FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()`,
            )
            .then((res) => res.rows.forEach((r) => activity.set(r.what, (activity.get(r.what) ?? 0) + 1)))
            .catch((err: Error) => log(`  (pg activity sample failed: ${err.message})`));
        }, 100)
      : null;
    // What each hub costs doing nothing (timers, BullMQ's stalled-job checks and schedulers, queue-depth reads, the
    // live feed's listener check, metrics), measured before the first message: the fixed share of events per
    // hub-CPU-second, which weighs twice with two hubs on the same input.
    const idleSec = 3;
    const idle0 = hubs.map((h) => cpuSeconds(h.pid));
    await new Promise((r) => setTimeout(r, idleSec * 1000));
    const hubIdleCpuPct = hubs.map((h, i) => round((100 * (cpuSeconds(h.pid) - idle0[i]!)) / idleSec, 1));
    const ticks0 = machineTicks();
    const brokerSampler = new ProcSampler(broker.pid).start();
    for (const h of hubs) samplers.push(new ProcSampler(h.pid).start());
    const run = runLoadgen({
      mode: 'events',
      url: broker.url,
      topicRoot: 'camhub/v1',
      sites: s.sites.map((site) => ({ site, password: broker.sitePassword(site) })),
      cameras: s.cameras,
      rate: s.rate,
      seconds: s.seconds,
      duplicateRatio: s.duplicateRatio,
      inflightPerConnection: 1000,
    });
    if (s.stall) {
      const stall = s.stall;
      const client = new pg.Client({ connectionString: db.url });
      stallClient = client;
      await client.connect();
      void run.started.then(async () => {
        await new Promise((r) => setTimeout(r, stall.afterSec * 1000));
        await client.query('BEGIN');
        await client.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
        log(`  PostgreSQL stalled (events locked) for ${stall.seconds} s`);
        await new Promise((r) => setTimeout(r, stall.seconds * 1000));
        await client.query('COMMIT');
        log('  PostgreSQL released');
      });
    }
    const lg = await run.result;

    // Wait until every unique event is stored, nothing moves for 20 s (then the rest is lost: reported), or the drain
    // cap passes (then the rest is reported as remaining: the hub was still catching up, the run must still end).
    let stored = 0;
    let lastChange = Date.now();
    const drainDeadline = Date.now() + s.drainCapSec * 1000;
    let drainCapped = false;
    while (stored < lg.unique && Date.now() - lastChange < 20_000) {
      if (Date.now() > drainDeadline) {
        drainCapped = true;
        log(`  drain cap (${s.drainCapSec} s) reached with ${lg.unique - stored} events still to store`);
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
      // Progress from the hubs' own counter of events stored for the first time, not `count(*) FROM events`: a
      // count scans every row, and four a second over the peak's ~900,000 rows took a good part of a core from the
      // PostgreSQL the hubs were draining into (6-10 ms per 40,000 rows, measured). The figures below still come from
      // the table itself.
      let n = 0;
      for (const h of hubs)
        n += metricSum(await (await fetch(`${h.url}/metrics`)).text(), 'camhub_ingest_events_stored_total');
      if (n !== stored) lastChange = Date.now();
      stored = n;
    }
    // Alert evaluation runs after the commit, in the hub's alerts queue, one batch at a time: what it has not done yet
    // when the drain ends is work the run's CPU figures do not include.
    const owedRow = (
      await pool.query<{ batches: number; events: number }>(
        'SELECT count(*)::int AS batches, coalesce(sum(cardinality(event_ids)), 0)::int AS events FROM alert_outbox',
      )
    ).rows[0]!;
    clearInterval(scraper);
    if (activityTimer) clearInterval(activityTimer);
    await activityPool.end();
    await scrape();
    const usage: ProcUsage[] = samplers.map((x) => x.stop());
    const brokerUsage = brokerSampler.stop();
    const ticks1 = machineTicks();

    const { rows } = await pool.query<{
      n: number;
      keys: number;
      p50: number;
      p95: number;
      p99: number;
      max: number;
      first_sent: number;
      last_stored: number;
    }>(`
      SELECT count(*)::int AS n, count(DISTINCT (site, camera, seq))::int AS keys,
             percentile_cont(0.50) WITHIN GROUP (ORDER BY lat) AS p50,
             percentile_cont(0.95) WITHIN GROUP (ORDER BY lat) AS p95,
             percentile_cont(0.99) WITHIN GROUP (ORDER BY lat) AS p99,
             max(lat) AS max, min(sent) AS first_sent, max(stored) AS last_stored
      FROM (SELECT site, camera, seq, (data->>'sentAt')::float8 AS sent,
                   extract(epoch FROM stored_at) * 1000 AS stored,
                   extract(epoch FROM stored_at) * 1000 - (data->>'sentAt')::float8 AS lat
            FROM events) x`);
    const r = rows[0]!;
    for (const h of hubs) await h.stop();
    const profiles = mainThreadProfiles(profileDirs);
    return {
      scenario: s.name,
      hubs: s.hubs,
      offeredRate: s.rate,
      seconds: s.seconds,
      loadgen: lg,
      stored: r.n,
      lost: drainCapped ? 0 : lg.unique - r.n,
      remainingAtCap: lg.unique - r.n,
      drainCapped,
      duplicatesStored: r.n - r.keys,
      storedPerSec: round(r.n / ((r.last_stored - r.first_sent) / 1000), 0),
      drainSeconds: round((r.last_stored - lg.endedAt) / 1000, 2),
      latencyMs: { p50: round(r.p50), p95: round(r.p95), p99: round(r.p99), max: round(r.max) },
      hubCpuPct: usage.map((u) => round(u.cpuPct, 0)),
      hubIdleCpuPct,
      eventsPerHubCpuSec: round(r.n / usage.reduce((a, u) => a + u.cpuSeconds, 0), 0),
      machineIdlePct: round((100 * (ticks1.idle - ticks0.idle)) / Math.max(1, ticks1.total - ticks0.total), 1),
      hubRssMaxMiB: usage.map((u) => round(u.rssMaxMiB, 0)),
      brokerCpuPct: round(brokerUsage.cpuPct, 0),
      maxQueueDepth,
      maxPendingAcks,
      hubDuplicatesSeen,
      alertsOwed: owedRow,
      loadAvg: loadAverage(),
      ...(s.profile
        ? {
            profiles,
            postgresActivity: [...activity]
              .sort((a, b) => b[1] - a[1])
              .slice(0, 12)
              .map(([what, samples]) => ({ what, samples })),
          }
        : {}),
    };
  } finally {
    for (const x of samplers) x.stop();
    await Promise.all(hubs.map((h) => h.stop()));
    await stallClient?.end();
    await pool.end();
    await deleteQueueKeys('redis://127.0.0.1:6379', queuePrefix);
    // The hubs' persistent sessions live in the bench broker, which is stopped (and its files removed) at the end.
    await db.drop();
  }
}
