import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTopics } from '@camhub/shared';
import type { FastifyInstance } from 'fastify';
import { Cluster } from 'ioredis';
import type { MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { requireDependency, onPath } from '../support/dependencies.js';
import { makeEvent } from '../support/factories.js';
import { buildHub, createHubEnv, type TestHubEnv } from '../support/hub.js';
import { uniqueToken } from '../support/ids.js';
import { connectPublisher, publishJson } from '../support/mqtt.js';
import { freePortBlock } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

const run = promisify(execFile);

let dir: string | undefined;
const servers: ChildProcess[] = [];
let env: TestHubEnv | undefined;
let hub: FastifyInstance | undefined;
let pub: MqttClient | undefined;

afterAll(async () => {
  await pub?.endAsync();
  await hub?.close();
  await env?.cleanup();
  for (const s of servers) s.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Three primaries, no replicas: the smallest Redis Cluster, on ports of its own. */
async function startCluster(): Promise<number[]> {
  dir = await mkdtemp(join(tmpdir(), 'camhub-redis-cluster-'));
  const first = await freePortBlock(3, 20_000 + Math.floor(Math.random() * 10_000));
  const ports = [first, first + 1, first + 2];
  for (const port of ports) {
    const proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--save',
        '',
        '--appendonly',
        'no',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--dir',
        dir,
      ],
      { stdio: 'ignore' },
    );
    servers.push(proc);
  }
  await waitFor(
    async () => {
      for (const port of ports) await run('redis-cli', ['-p', String(port), 'ping']);
      return true;
    },
    { what: 'three redis-server processes', timeoutMs: 20_000 },
  );
  await run('redis-cli', [
    '--cluster',
    'create',
    ...ports.map((p) => `127.0.0.1:${p}`),
    '--cluster-replicas',
    '0',
    '--cluster-yes',
  ]);
  await waitFor(
    async () => (await run('redis-cli', ['-p', String(first), 'cluster', 'info'])).stdout.includes('cluster_state:ok'),
    { what: 'cluster_state:ok', timeoutMs: 30_000 },
  );
  return ports;
}

describe('Redis Cluster (REDIS_CLUSTER=true)', () => {
  it('ingests through BullMQ on a three-node cluster, every key of the hub on its hash tag’s node', async (ctx) => {
    requireDependency(
      ctx,
      onPath('redis-server') && onPath('redis-cli'),
      'redis-server',
      'apt-get install redis-server',
    );
    const ports = await startCluster();
    const prefix = `{camhub-test-${uniqueToken()}}`;
    env = await createHubEnv({
      REDIS_URL: `redis://127.0.0.1:${ports[1]}`,
      REDIS_CLUSTER: 'true',
      QUEUE_PREFIX: prefix,
    });
    hub = await buildHub(env.config);
    await waitFor(() => hub!.ingest.mqtt?.connected, { what: 'hub mqtt connection' });
    pub = await connectPublisher();
    const t = createTopics(env.config.MQTT_TOPIC_ROOT);
    const events = Array.from({ length: 40 }, (_, i) => makeEvent({ site: 'rc', camera: `cam-${i % 4}`, seq: i }));
    for (const e of events) await publishJson(pub, t.events(e.site, e.camera), e);
    const stored = async () =>
      (await hub!.pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE site = 'rc'`)).rows[0]!.n;
    await waitFor(async () => (await stored()) === 40, { what: '40 events stored through the cluster' });
    expect((await hub.inject('/readyz')).statusCode).toBe(200);

    // Every key sits in the slot of the hash tag, on one node; the other two hold none of them.
    const cluster = new Cluster([{ host: '127.0.0.1', port: ports[0]! }]);
    try {
      await new Promise((resolve) => cluster.once('ready', resolve));
      expect(cluster.nodes('master')).toHaveLength(3);
      const counts: number[] = [];
      for (const node of cluster.nodes('master')) {
        let n = 0;
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          cursor = next;
          n += keys.length;
        } while (cursor !== '0');
        counts.push(n);
      }
      expect(counts.filter((n) => n > 0)).toHaveLength(1);
    } finally {
      cluster.disconnect();
    }
  });

  it('refuses a cluster without a hash-tag prefix at start', async () => {
    const { loadConfig } = await import('../../hub/src/config.js');
    expect(() => loadConfig({}, { REDIS_CLUSTER: 'true', QUEUE_PREFIX: 'camhub' })).toThrow(/hash tag/);
  });
});
