import { runSecurityCommand, SECURITY_USAGE, UsageError } from './auth/admin-cli.js';
import { loadConfig } from './config.js';
import { migrate } from './db/migrate.js';
import { ConfigError } from './errors.js';

const USAGE = `usage: npm run hub [-- <command>]
commands:
  serve      start the hub (default)
  migrate    apply pending database migrations and exit
${SECURITY_USAGE}`;

/** `npm run hub -- <command>`: one entry point for the hub's process and its admin commands. */
async function main(argv: string[]) {
  const [command = 'serve', ...rest] = argv;
  try {
    const config = loadConfig();
    switch (command) {
      case 'serve': {
        const { startServer } = await import('./server.js');
        const server = await startServer(config);
        const { default: closeWithGrace } = await import('close-with-grace');
        closeWithGrace({ delay: 15_000 }, async ({ signal, err }) => {
          if (err) server.log.error({ err }, 'shutting down after an error');
          else server.log.info({ signal }, 'shutting down');
          await server.close();
        });
        return;
      }
      case 'migrate': {
        const applied = await migrate(config.DATABASE_URL, (m) => console.log(m));
        console.log(applied.length ? `applied ${applied.length} migration(s)` : 'database schema is up to date');
        return;
      }
      case 'user':
      case 'site-token':
      case 'verify-audit':
      case 'verify-export':
      case 'keygen': {
        try {
          process.exitCode = await runSecurityCommand(config, command, rest);
        } catch (err) {
          if (!(err instanceof UsageError)) throw err;
          console.error(`camhub hub: ${err.message}\n${USAGE}`);
          process.exitCode = 64;
        }
        return;
      }
      case 'help':
      case '--help':
        console.log(USAGE);
        return;
      default:
        console.error(`unknown command "${command}" ${rest.length ? rest.join(' ') : ''}\n${USAGE}`);
        process.exit(64);
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`camhub hub: ${err.message}`);
      process.exit(78);
    }
    throw err;
  }
}

main(process.argv.slice(2)).catch((err) => {
  console.error(`camhub hub: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
