import type { BenchBroker } from './lib/broker.js';
import type { Row } from './lib/stats.js';
export async function runQuery(
  _b: BenchBroker,
  _o: { events: number; cameras: number; days: number; requests: number },
  _log: (m: string) => void,
): Promise<{ result: unknown; rows: Row[] }> {
  return { result: null, rows: [] };
}
