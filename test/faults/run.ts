/**
 * The fault suite: `npm run test:faults [-- --only a,b] [-- --long] [-- --json file]`.
 * Every case runs against private processes on spare loopback ports (never the shared services), prints one or
 * more rows, and the run fails when any row lost or duplicated an event or missed a check.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { agentCases } from './cases/agent.js';
import { hubSnapshotDiskFull } from './cases/hub-disk.js';
import {
  hubKilledTwice,
  mosquittoRestart,
  postgresCrash,
  postgresDown,
  redisCrash,
  twoHubsOneKilled,
} from './cases/services.js';
import type { FaultCase } from './support/case.js';
import { Cleanup } from './support/cleanup.js';
import { PrivatePostgres } from './support/postgres.js';
import { type FaultRow, formatMs, formatTable } from './support/report.js';

const CASES: FaultCase[] = [
  mosquittoRestart,
  redisCrash,
  postgresCrash,
  postgresDown,
  hubKilledTwice,
  twoHubsOneKilled,
  hubSnapshotDiskFull,
  ...agentCases,
];

const log = (line: string) => process.stderr.write(`[faults] ${line}\n`);

async function main() {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      long: { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      json: { type: 'string' },
    },
  });
  if (values.list) {
    for (const c of CASES) console.log(`${c.name}${c.long ? ' (long)' : ''}`);
    return;
  }
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((n) => !CASES.some((c) => c.name === n)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown case(s): ${unknown.join(', ')} (see --list)`);
  const selected = CASES.filter((c) => (only ? only.includes(c.name) : values.long ? true : !c.long));

  const suite = new Cleanup();
  const rows: FaultRow[] = [];
  const started = Date.now();
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    log('interrupted: cleaning up');
    void suite.run(log).then(() => process.exit(130));
  });
  try {
    const postgres = await PrivatePostgres.start(suite);
    for (const c of selected) {
      if (interrupted) break;
      const t0 = Date.now();
      log(`${c.name}: running`);
      const cleanup = new Cleanup();
      try {
        const got = await c.run({ cleanup, postgres, log: (l) => log(`${c.name}: ${l}`) });
        rows.push(...got);
        for (const r of got) log(`${c.name}: ${r.ok ? 'ok' : 'FAILED'} ${r.published}/${r.stored} ${r.notes}`);
      } catch (err) {
        log(`${c.name}: ERROR ${(err as Error).stack ?? err}`);
        rows.push({
          fault: c.name,
          published: 0,
          stored: 0,
          duplicates: 0,
          recoveryMs: null,
          notes: `error: ${(err as Error).message.slice(0, 200)}`,
          ok: false,
        });
      } finally {
        await cleanup.run(log);
        // A case may have left the shared cluster stopped when it failed half-way.
        await postgres.start().catch(() => undefined);
      }
      log(`${c.name}: ${formatMs(Date.now() - t0)}`);
    }
  } finally {
    await suite.run(log);
  }
  console.log(`\ncamhub fault suite, ${new Date().toISOString()}, ${formatMs(Date.now() - started)} in all\n`);
  console.log(formatTable(rows));
  if (values.json) writeFileSync(values.json, JSON.stringify(rows, null, 2));
  const failed = rows.filter((r) => !r.ok);
  if (failed.length > 0) {
    console.log(`\n${failed.length} case(s) failed: ${failed.map((r) => r.fault).join('; ')}`);
    process.exitCode = 1;
  } else console.log('\nnothing lost, nothing stored twice.');
}

main().catch((err) => {
  log(`fatal: ${(err as Error).stack ?? err}`);
  process.exitCode = 1;
});
