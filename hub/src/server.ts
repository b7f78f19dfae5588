import closeWithGrace from 'close-with-grace';
import Fastify from 'fastify';
import app, { fastifyOptions } from './app.js';
import { type HubConfig, loadConfig, trustProxyOption } from './config.js';
import { migrate } from './db/migrate.js';
import { ConfigError } from './errors.js';

/** Boots the hub: config, migrations (under an advisory lock), the app, and a graceful shutdown. */
export async function startServer(config: HubConfig) {
  const server = Fastify({
    ...fastifyOptions,
    trustProxy: trustProxyOption(config),
    logger: {
      level: config.LOG_LEVEL,
      // Never log credentials that may come in headers.
      redact: ['req.headers.authorization', 'req.headers.cookie'],
    },
  });
  const applied = await migrate(config.DATABASE_URL, (m) => server.log.info(m));
  if (applied.length === 0) server.log.info('database schema is up to date');
  await server.register(app, { config });
  await server.listen({ port: config.PORT, host: config.HOST });
  return server;
}

async function main() {
  let config: HubConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`camhub hub: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const server = await startServer(config);
  closeWithGrace({ delay: 15_000 }, async ({ signal, err }) => {
    if (err) server.log.error({ err }, 'shutting down after an error');
    else server.log.info({ signal }, 'shutting down');
    await server.close();
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    process.stderr.write(`camhub hub failed to start: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
}
