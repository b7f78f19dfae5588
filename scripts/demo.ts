import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run demo` starts this file through the tsx CLI, which relays Ctrl-C to its child and SIGKILLs that child if it
 * does not acknowledge the signal within ~60 ms. The demo's own process may be busy that long (PGlite runs queries on
 * its main thread), so it runs one level further down (scripts/demo/main.ts) and this idle process only passes
 * signals on. The demo treats the copy it also gets from the terminal as the same Ctrl-C.
 */
const main = join(dirname(fileURLToPath(import.meta.url)), 'demo', 'main.ts');
const child = spawn(process.execPath, ['--import', 'tsx', main, ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? constants.signals[signal] : 1)));
child.on('error', (err) => {
  process.stderr.write(`demo: cannot start ${main}: ${err.message}\n`);
  process.exit(1);
});
