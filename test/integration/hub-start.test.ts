import { createTopics } from '@camhub/shared';
import { Queue } from 'bullmq';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import mqtt from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import app, { fastifyOptions } from '../../hub/src/app.js';
import { subscriptions } from '../../hub/src/ingest/mqtt-source.js';
import type { IngestBatch } from '../../hub/src/ingest/ingest-types.js';
import { INGEST_QUEUE } from '../../hub/src/plugins/queues.js';
import { makeEvent } from '../support/factories.js';
import { type TestHubEnv } from '../support/hub.js';
import { useTestHubEnv } from '../support/hub-fixture.js';
import { connectPublisher, publishJson } from '../support/mqtt.js';
import { sleep, waitFor } from '../support/wait.js';

const SITE = 'start-site';

let env: TestHubEnv;
let db: pg.Pool;
let server: FastifyInstance | undefined;
/** Lets the held start finish (also after a failed check, so that the hub can be closed). */
let release: () => void = () => undefined;

const fixture = useTestHubEnv();
beforeAll(() => {
  ({ env } = fixture);
  db = new pg.Pool({ connectionString: env.db.url, max: 2 });
});
afterAll(async () => {
  release();
  await server?.close();
  await db?.end();
});

const stored = async () =>
  (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE site = $1', [SITE])).rows[0]!.n;

/**
 * A hub restarted after a crash finds work waiting: its persistent MQTT session full of what was published while it
 * was down, and batches in the ingest queue. It must take none of it before every plugin has loaded: a batch written
 * before after-commit.plugin added its followers would get no status verdict and no live-feed announcement, and
 * reading the backlog while the rest of the hub loaded made a restart compete with the catch-up (the fault suite's
 * hub-sigkill-twice). Here a plugin registered after the hub holds its start while the work waits.
 */
describe('hub start', () => {
  it('takes no MQTT message and writes no queued batch until every plugin has loaded', async () => {
    const cfg = env.config;
    const t = createTopics(cfg.MQTT_TOPIC_ROOT);
    // The hub's session, as a hub that ran before left it.
    const session = await mqtt.connectAsync(cfg.MQTT_URL, {
      clientId: cfg.MQTT_CLIENT_ID,
      username: cfg.MQTT_USERNAME,
      password: cfg.MQTT_PASSWORD,
      protocolVersion: 5,
      clean: false,
      properties: { sessionExpiryInterval: 300 },
      reconnectPeriod: 0,
    });
    await session.subscribeAsync(subscriptions(cfg));
    await session.endAsync();
    const published = Array.from({ length: 20 }, (_, i) => makeEvent({ site: SITE, camera: 'cam-0', seq: i }));
    const pub = await connectPublisher(cfg.MQTT_URL);
    for (const e of published) await publishJson(pub, t.events(e.site, e.camera), e);
    await pub.endAsync();
    // A batch the crashed hub had made durable but not written.
    const queued = makeEvent({ site: SITE, camera: 'cam-1', seq: 0 });
    const redis = new Redis(cfg.REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue<IngestBatch>(INGEST_QUEUE, { connection: redis, prefix: cfg.QUEUE_PREFIX });
    await queue.add('batch', {
      accepted: [{ kind: 'events', receivedAt: new Date().toISOString(), payload: queued }],
      rejected: [],
    });
    await queue.close();
    await redis.quit();

    const held = new Promise<void>((r) => (release = r));
    let loading: FastifyInstance | undefined;
    server = Fastify({ ...fastifyOptions, logger: false });
    // Not awaited: awaiting a registration loads the plugin, and the second one is held on purpose.
    void server.register(app, { config: cfg });
    // Registered after the hub: runs once every hub plugin has loaded, and holds the start (onReady) until released.
    void server.register(async (instance) => {
      loading = instance;
      await held;
    });
    const ready = server.ready();

    await waitFor(() => loading, { timeoutMs: 60_000, what: 'hub plugins loaded' });
    // Long enough for the broker to deliver and the worker to write, were either running (tens of ms when they do).
    await sleep(2000);
    expect(loading!.ingest.mqtt?.connected).toBe(false);
    expect(await stored()).toBe(0);

    release();
    await ready;
    await waitFor(async () => (await stored()) === published.length + 1, {
      timeoutMs: 30_000,
      what: 'the session and the queued batch stored once the hub is ready',
    });
    expect(server.ingest.mqtt?.connected).toBe(true);
  });
});
