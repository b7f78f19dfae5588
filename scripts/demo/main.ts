import { DemoError } from './errors.js';
import { parseDemoArgs, USAGE } from './options.js';
import { runDemo } from './run.js';

/** `npm run demo`: the whole system on this machine (see docs/demo.md). */
async function main(): Promise<number> {
  let options;
  try {
    options = parseDemoArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof DemoError) {
      process.stderr.write(`${err.message}\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  return runDemo(options, process.env, (line) => process.stdout.write(`${line}\n`));
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
