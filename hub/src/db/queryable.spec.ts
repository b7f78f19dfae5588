import { EventEmitter } from 'node:events';
import type pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { withTransaction } from './queryable.js';

/** A pooled client that loses its connection during the transaction, as node-postgres reports it. */
function fakePool(failOn: string) {
  const client = new EventEmitter() as EventEmitter & {
    query: (sql: string) => Promise<unknown>;
    release: ReturnType<typeof vi.fn>;
  };
  client.query = async (sql: string) => {
    if (sql === failOn) {
      const err = new Error('Connection terminated unexpectedly');
      // node-postgres fails the query in flight and also emits 'error' on the client, which nobody else hears.
      client.emit('error', err);
      throw err;
    }
    return { rows: [] };
  };
  client.release = vi.fn();
  return { pool: { connect: async () => client } as unknown as pg.Pool, client };
}

describe('withTransaction', () => {
  it('hears the error a lost connection emits, fails the call, and destroys the client instead of pooling it', async () => {
    const { pool, client } = fakePool('SELECT 1');
    await expect(withTransaction(pool, (tx) => tx.query('SELECT 1'))).rejects.toThrow(/terminated unexpectedly/);
    expect(client.release).toHaveBeenCalledWith(expect.any(Error));
    expect(client.listenerCount('error')).toBe(0);
  });

  it('returns a healthy client to the pool', async () => {
    const { pool, client } = fakePool('never');
    await expect(withTransaction(pool, async () => 7)).resolves.toBe(7);
    expect(client.release).toHaveBeenCalledWith(undefined);
  });
});
