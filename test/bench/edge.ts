import type { BenchBroker } from './lib/broker.js';
import type { Row } from './lib/stats.js';
export async function runEdge(
  _b: BenchBroker,
  _o: { cameras: number; restSeconds: number; stormSeconds: number },
  _log: (m: string) => void,
): Promise<{ result: unknown; rows: Row[] }> {
  return { result: null, rows: [] };
}
