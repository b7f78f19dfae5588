import type { Cleanup } from './cleanup.js';
import type { PrivatePostgres } from './postgres.js';
import type { FaultRow } from './report.js';

export interface CaseContext {
  cleanup: Cleanup;
  /** One private PostgreSQL cluster for the run; cases that crash it restart it before they end. */
  postgres: PrivatePostgres;
  log: (line: string) => void;
}

export interface FaultCase {
  name: string;
  /** Longer than the regular suite can afford (`npm run test:faults -- --long`). */
  long?: boolean;
  run: (ctx: CaseContext) => Promise<FaultRow[]>;
}
