import Fastify, { type FastifyInstance } from 'fastify';
import { deleteQueueKeys } from '../../scripts/lib/queue-keys.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import app, { fastifyOptions } from '../../hub/src/app.js';
import { type HubConfig, loadConfig, trustProxyOption } from '../../hub/src/config.js';
import type { IngestPluginOptions } from '../../hub/src/ingest/ingest.plugin.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { uniqueQueuePrefix, uniqueToken, uniqueTopicRoot } from './ids.js';

/** The bootstrap admin's password in every test hub (CAMHUB_ADMIN_PASSWORD). */
export const TEST_ADMIN_PASSWORD = 'test-admin-password';

export interface TestHubEnv {
  db: TestDatabase;
  config: HubConfig;
  snapshotDir: string;
  /** Holds the hub key and the export archives. */
  dataDir: string;
  /** Removes the database, the queue keys and the snapshot directory. */
  cleanup: () => Promise<void>;
}

/** Everything one test file needs of its own: database, queue prefix, topic root, MQTT client id. */
export async function createHubEnv(overrides: Partial<HubConfig> = {}): Promise<TestHubEnv> {
  const db = await createTestDatabase();
  const snapshotDir = await mkdtemp(join(tmpdir(), 'camhub-snap-'));
  const dataDir = await mkdtemp(join(tmpdir(), 'camhub-data-'));
  const config = loadConfig(
    {},
    {
      DATABASE_URL: db.url,
      QUEUE_PREFIX: uniqueQueuePrefix(),
      MQTT_TOPIC_ROOT: uniqueTopicRoot(),
      MQTT_CLIENT_ID: `camhub-test-${uniqueToken()}`,
      SNAPSHOT_DIR: snapshotDir,
      LOG_LEVEL: 'silent',
      PORT: 0,
      HOST: '127.0.0.1',
      INGEST_BATCH_MS: 20,
      CAMHUB_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
      HUB_KEY_FILE: join(dataDir, 'hub-ed25519.pem'),
      EXPORT_DIR: join(dataDir, 'exports'),
      CLIP_DIR: join(dataDir, 'clips'),
      // Test files log in from 127.0.0.1 many times and in parallel; the throttle's own tests set these low.
      AUTH_LOGIN_RATE_PER_MIN: 10_000,
      AUTH_LOGIN_CONCURRENT_USER: 100,
      AUTH_LOGIN_CONCURRENT_IP: 100,
      ...overrides,
    },
  );
  return {
    db,
    config,
    snapshotDir,
    dataDir,
    cleanup: async () => {
      await deleteQueueKeys(config.REDIS_URL, config.QUEUE_PREFIX);
      await removeMqttSession(config);
      await db.drop();
      await rm(snapshotDir, { recursive: true, force: true });
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Builds the hub app (not listening) against an env; close it with app.close(). */
export async function buildHub(
  config: HubConfig,
  opts: { ingest?: IngestPluginOptions; listen?: boolean; maintenance?: boolean } = {},
): Promise<FastifyInstance> {
  const server = Fastify({ ...fastifyOptions, trustProxy: trustProxyOption(config), logger: false });
  await server.register(app, { config, ingest: opts.ingest, maintenance: opts.maintenance });
  await server.ready();
  if (opts.listen) await server.listen({ port: 0, host: '127.0.0.1' });
  return server;
}

export function hubUrl(server: FastifyInstance): string {
  const addr = server.server.address();
  if (!addr || typeof addr === 'string') throw new Error('hub is not listening');
  return `http://127.0.0.1:${addr.port}`;
}

export { deleteQueueKeys };

/** Ends the hub's persistent MQTT session so the broker stops queueing for a client id nobody will reuse. */
export async function removeMqttSession(
  config: Pick<HubConfig, 'MQTT_URL' | 'MQTT_CLIENT_ID' | 'MQTT_USERNAME' | 'MQTT_PASSWORD'>,
) {
  const { default: mqtt } = await import('mqtt');
  const c = await mqtt.connectAsync(config.MQTT_URL, {
    clientId: config.MQTT_CLIENT_ID,
    // A test that points its hub at a private broker (with an ACL) gives the hub's credentials with it.
    username: config.MQTT_USERNAME,
    password: config.MQTT_PASSWORD,
    protocolVersion: 5,
    clean: true,
    properties: { sessionExpiryInterval: 0 },
    reconnectPeriod: 0,
  });
  await c.endAsync();
}
