import { describe, expect, it } from 'vitest';
import { PostgresWatch } from './postgres-watch.js';

describe(PostgresWatch.name, () => {
  it('probes until PostgreSQL answers, then releases the waiting batches once', async () => {
    let probes = 0;
    let released = 0;
    const sut = new PostgresWatch({
      probe: async () => {
        probes += 1;
        if (probes < 3) throw new Error('connection refused');
      },
      onBack: async () => {
        released += 1;
      },
      intervalMs: 1,
    });
    // Many failing batches call watch(); one watch runs.
    await Promise.all([sut.watch(), sut.watch(), sut.watch()]);
    expect(probes).toBe(3);
    expect(released).toBe(1);
    expect(sut.active).toBe(false);
  });

  it('gives up without releasing when stopped (the hub is closing)', async () => {
    let released = 0;
    const sut = new PostgresWatch({
      probe: async () => {
        throw new Error('down');
      },
      onBack: async () => {
        released += 1;
      },
      intervalMs: 2,
    });
    const watching = sut.watch();
    await new Promise((r) => setTimeout(r, 10));
    sut.stop();
    await watching;
    expect(released).toBe(0);
    await sut.watch(); // a stopped watch never starts again
    expect(sut.active).toBe(false);
  });

  it('reports a release that fails instead of throwing', async () => {
    const errors: string[] = [];
    const sut = new PostgresWatch({
      probe: async () => undefined,
      onBack: async () => {
        throw new Error('redis down');
      },
      onError: (err) => errors.push(err.message),
      intervalMs: 1,
    });
    await sut.watch();
    expect(errors).toEqual(['redis down']);
  });
});
