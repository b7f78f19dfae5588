import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { delimiter, join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Children } from './children.js';
import { errorMessage, ServiceUnavailableError } from './errors.js';
import { freePort, portAnswers } from '../lib/net.js';

/** One backing service as the demo chose it. */
export interface Service {
  url: string;
  /** One line for the start-up summary: what was chosen and why. */
  summary: string;
  /** 'external': someone else's (configured or found running), we only clean our own traces; else ours to stop. */
  origin: 'external' | 'embedded' | 'private';
  stop(): Promise<void>;
}

export interface Mqtt extends Service {
  /** 4 for Aedes, which has no MQTT 5. */
  protocolVersion: 4 | 5;
}

export interface Database extends Service {
  /** PGlite serves one query stream at a time (see startPglite). */
  poolMax: number | null;
}

export interface ServiceContext {
  env: NodeJS.ProcessEnv;
  embedded: boolean;
  demoDir: string;
  children: Children;
}

const nothingToStop = async () => undefined;

export async function chooseMqtt(ctx: ServiceContext): Promise<Mqtt> {
  const protocolVersion = ctx.env.MQTT_PROTOCOL_VERSION === '4' ? 4 : 5;
  if (ctx.env.MQTT_URL) {
    return {
      url: ctx.env.MQTT_URL,
      protocolVersion,
      origin: 'external',
      summary: `${ctx.env.MQTT_URL} (MQTT_URL)`,
      stop: nothingToStop,
    };
  }
  if (!ctx.embedded && (await portAnswers(1883))) {
    return {
      url: 'mqtt://127.0.0.1:1883',
      protocolVersion,
      origin: 'external',
      summary: 'broker at 127.0.0.1:1883 (found running)',
      stop: nothingToStop,
    };
  }
  return startAedes(ctx.embedded ? '--embedded' : 'nothing on 1883');
}

async function startAedes(why: string): Promise<Mqtt> {
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `mqtt://127.0.0.1:${port}`,
    protocolVersion: 4,
    origin: 'embedded',
    summary: `embedded Aedes on 127.0.0.1:${port}, MQTT 3.1.1, in memory (${why})`,
    stop: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Whether a PostgreSQL server on 5432 lets `postgres` in without a password (trust or peer-like local setups). */
async function localPostgresUsable(): Promise<string | null> {
  const client = new pg.Client({
    connectionString: 'postgres://postgres@127.0.0.1:5432/postgres',
    connectionTimeoutMillis: 3000,
  });
  try {
    await client.connect();
    return null;
  } catch (err) {
    return errorMessage(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function chooseDatabase(ctx: ServiceContext): Promise<Database> {
  if (ctx.env.DATABASE_URL) {
    return {
      url: ctx.env.DATABASE_URL,
      poolMax: null,
      origin: 'external',
      summary: `${redactUrl(ctx.env.DATABASE_URL)} (DATABASE_URL)`,
      stop: nothingToStop,
    };
  }
  let why = ctx.embedded ? '--embedded' : 'nothing on 5432';
  if (!ctx.embedded && (await portAnswers(5432))) {
    const refusal = await localPostgresUsable();
    if (refusal === null) {
      // A fresh demo each run: the database is ours by name, so drop what the last run left.
      const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
      await admin.connect();
      try {
        await admin.query('DROP DATABASE IF EXISTS camhub_demo WITH (FORCE)');
      } finally {
        await admin.end();
      }
      return {
        url: 'postgres://postgres@127.0.0.1:5432/camhub_demo',
        poolMax: null,
        origin: 'external',
        summary: 'server at 127.0.0.1:5432 (found running), database camhub_demo (recreated)',
        stop: nothingToStop,
      };
    }
    why = `5432 answers but refused user postgres without a password: ${refusal}; set DATABASE_URL to use it`;
  }
  return startPglite(join(ctx.demoDir, 'pglite'), why);
}

async function startPglite(dataDir: string, why: string): Promise<Database> {
  const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-socket'),
  ]);
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  const port = await freePort();
  // PGlite is one backend. The socket server queues whole transactions per connection, but not the messages of
  // one extended-protocol query, so two connections could interleave their unnamed statements: the hub gets a pool
  // of one (DB_POOL_MAX=1). A few connections are still allowed for the short-lived migration clients.
  const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1', maxConnections: 8 });
  await server.start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    poolMax: 1,
    origin: 'embedded',
    summary: `embedded PGlite in ${dataDir}, on 127.0.0.1:${port} (${why})`,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}

async function redisAnswers(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 1500,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined); // the failed PING below is the answer
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function findBinary(name: string, env: NodeJS.ProcessEnv): string | null {
  const dirs = [...(env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/bin', '/opt/homebrew/bin'];
  for (const dir of dirs) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

export const REDIS_HELP = `camhub's queue (BullMQ) needs a real Redis (6.2 or newer), and there is none here:
  - Debian/Ubuntu: sudo apt-get install redis-server   (the demo then starts a private one, or uses the service on 6379)
  - macOS:         brew install redis
  - or point the demo at one: REDIS_URL=redis://host:6379 npm run demo`;

export async function chooseRedis(ctx: ServiceContext): Promise<Service> {
  if (ctx.env.REDIS_URL) {
    return {
      url: ctx.env.REDIS_URL,
      origin: 'external',
      summary: `${redactUrl(ctx.env.REDIS_URL)} (REDIS_URL)`,
      stop: nothingToStop,
    };
  }
  const binary = findBinary('redis-server', ctx.env);
  if (!(ctx.embedded && binary) && (await redisAnswers('redis://127.0.0.1:6379'))) {
    return {
      url: 'redis://127.0.0.1:6379',
      origin: 'external',
      summary: 'server at 127.0.0.1:6379 (found running)',
      stop: nothingToStop,
    };
  }
  if (!binary) throw new ServiceUnavailableError(REDIS_HELP);
  const version = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const port = await freePort();
  const dir = join(ctx.demoDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const child = ctx.children.start({
    name: 'redis-server',
    command: binary,
    // A queue for a throw-away demo: no snapshots, no AOF, loopback only.
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    env: ctx.env,
    cwd: dir,
    logFile: join(ctx.demoDir, 'logs', 'redis-server.log'),
  });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while (!(await redisAnswers(url))) {
    if (child.done || Date.now() > deadline) {
      throw new ServiceUnavailableError(`redis-server did not start on ${port}:\n${child.tail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    origin: 'private',
    summary: `private redis-server on 127.0.0.1:${port} (${ctx.embedded ? '--embedded' : 'nothing on 6379'}; ${version.split(' ').slice(0, 3).join(' ')})`,
    stop: () => ctx.children.stop(child, 5000),
  };
}

/** Hides a password in a URL for printing. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
