import { sleep, waitFor } from '../../support/wait.js';
import { EventLoad } from './load.js';
import type { FaultRow } from './report.js';
import { FAULT_SITE, hubMetric, missingIds, type Stack, storedCounts } from './stack.js';

export interface LoadFaultOptions {
  fault: string;
  ratePerSec: number;
  cameras?: number;
  /** Load before the fault. */
  warmupMs: number;
  /** Load after the fault has been cleared. */
  cooldownMs: number;
  /** Injects the fault and clears it; resolves with the epoch ms at which it was cleared, plus notes. */
  inject: () => Promise<{ clearedAt: number; notes?: string[] }>;
  /** Longest wait for the hub to store everything after the load stopped. */
  settleTimeoutMs?: number;
}

/**
 * Steady MQTT load through the whole case, a fault in the middle, then a count: every event the broker
 * acknowledged must be in PostgreSQL exactly once. Recovery is measured from the moment the fault was cleared
 * until PostgreSQL held every event acknowledged before that moment.
 */
export async function runLoadWithFault(stack: Stack, opts: LoadFaultOptions): Promise<FaultRow> {
  const load = new EventLoad({
    url: stack.broker.url,
    username: FAULT_SITE,
    password: stack.broker.password(FAULT_SITE),
    site: FAULT_SITE,
    cameras: opts.cameras ?? 10,
    ratePerSec: opts.ratePerSec,
  });
  stack.cleanup.defer('load publisher', () => load.close());
  await load.connected();

  // Stored count over time, to find when the system caught up.
  const samples: { t: number; rows: number }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      try {
        samples.push({ t: Date.now(), rows: (await storedCounts(stack.db)).rows });
      } catch {
        // PostgreSQL itself may be the fault: no sample this round.
      }
      await sleep(100);
    }
  })();

  load.start();
  await sleep(opts.warmupMs);
  const { clearedAt, notes = [] } = await opts.inject();
  await sleep(opts.cooldownMs);
  await load.stop();
  const target = load.acked.length;
  const settled = await waitFor(async () => (await storedCounts(stack.db)).distinctIds >= target, {
    timeoutMs: opts.settleTimeoutMs ?? 120_000,
    intervalMs: 200,
    what: `${target} events stored`,
  }).catch(() => false);
  sampling = false;
  await sampler;

  const counts = await storedCounts(stack.db);
  const missing = await missingIds(stack.db, load.acked);
  const dueAtClear = load.ackedBy(clearedAt);
  // Recovered = everything acknowledged before the fault was cleared is stored, and new events are stored again.
  const rowsAtClear = samples.filter((s) => s.t < clearedAt).at(-1)?.rows ?? 0;
  const caughtUp = samples.find((s) => s.t >= clearedAt && s.rows >= dueAtClear && s.rows > rowsAtClear);
  const redelivered = (
    await Promise.all(stack.hubs.map((h) => hubMetric(h.url, 'camhub_ingest_events_duplicate_total')))
  ).reduce<number>((a, b) => a + (b ?? 0), 0);
  const duplicates = counts.rows - counts.distinctIds + (counts.rows - counts.distinctSeqs);
  const resumed = samples.find((s) => s.t >= clearedAt && s.rows > rowsAtClear);
  if (resumed) notes.push(`storing again after ${resumed.t - clearedAt} ms`);
  if (dueAtClear > rowsAtClear) notes.push(`${dueAtClear - rowsAtClear} events backlog at clear`);
  notes.push(`${opts.ratePerSec} ev/s`);
  if (load.retries > 0) notes.push(`${load.retries} publish retries`);
  if (redelivered > 0) notes.push(`${redelivered} redeliveries absorbed`);
  if (!settled) {
    notes.push('DID NOT SETTLE');
    // What the hubs said is the first thing to read when a case does not settle.
    for (const h of stack.hubs)
      process.stderr.write(`[faults] hub ${h.pid} output (tail):\n${h.output().slice(-4000)}\n`);
  }
  if (missing.length > 0) notes.push(`missing e.g. ${missing.slice(0, 2).join(', ')}`);
  return {
    fault: opts.fault,
    published: target,
    stored: target - missing.length,
    duplicates,
    recoveryMs: caughtUp ? caughtUp.t - clearedAt : null,
    notes: notes.join('; '),
    ok: settled && missing.length === 0 && duplicates === 0 && caughtUp !== undefined,
  };
}
