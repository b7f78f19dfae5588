import { portIsFree } from '../lib/net.js';
import { ServiceUnavailableError } from './errors.js';

/** The first block of `count` consecutive free ports at or above `start` (stepping by `count`). */
export async function freePortBlock(start: number, count: number): Promise<number> {
  for (let base = start; base + count - 1 <= 65535; base += count) {
    let free = true;
    for (let port = base; port < base + count && free; port += 1) free = await portIsFree(port);
    if (free) return base;
  }
  throw new ServiceUnavailableError(`no ${count} consecutive free ports at or above ${start}`);
}
