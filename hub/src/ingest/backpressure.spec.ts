import { describe, expect, it } from 'vitest';
import { QueueBackpressure, type QueueCounts } from './backpressure.js';

describe(QueueBackpressure.name, () => {
  it('admits at once below the limit, and counts every state that holds a batch', async () => {
    const seen: QueueCounts[] = [];
    const sut = new QueueBackpressure({
      counts: async () => ({ waiting: 1, active: 1, delayed: 1, prioritized: 1 }),
      maxQueued: 5,
      onCounts: (c) => seen.push(c),
    });
    await sut.refresh();
    expect(sut.depth).toBe(4);
    await sut.admit();
    expect(seen).toHaveLength(1);
  });

  it('holds a batch while the queue is at its limit and lets it go once the queue drains', async () => {
    const depths = [10, 10, 7, 3];
    let reads = 0;
    const sut = new QueueBackpressure({
      counts: async () => ({ waiting: depths[Math.min(reads++, depths.length - 1)] }),
      maxQueued: 5,
      waitMs: 1,
    });
    await sut.refresh();
    expect(sut.depth).toBe(10);
    await sut.admit();
    expect(sut.depth).toBe(3);
    expect(reads).toBe(4);
  });

  it('refreshes in the background once started, and stops', async () => {
    let reads = 0;
    const sut = new QueueBackpressure({
      counts: async () => {
        reads += 1;
        return {};
      },
      maxQueued: 1,
      refreshMs: 5,
    });
    sut.start();
    await new Promise((r) => setTimeout(r, 60));
    sut.stop();
    const after = reads;
    expect(after).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 30));
    expect(reads).toBe(after);
  });
});
