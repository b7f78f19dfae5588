import type pg from 'pg';

/** The least a repository needs: a Pool, a PoolClient in a transaction, or a Client all fit. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/**
 * Runs `fn` in one transaction on a pooled connection.
 *
 * While a client is checked out the pool no longer listens for its 'error' event, and node-postgres emits one on
 * every connection it loses (a PostgreSQL crash-restart mid-transaction): unheard, that event is an uncaught
 * exception and ends the hub. The query in flight fails on its own and is what we report; the listener only
 * keeps the event from being unhandled, and a client that lost its connection is destroyed on release, not pooled.
 */
export async function withTransaction<T>(pool: pg.Pool, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onError = (err: Error) => {
    lost = err;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackErr: Error) => {
      // The connection is likely broken; the original error is the one worth reporting.
      (err as Error & { rollbackError?: Error }).rollbackError = rollbackErr;
      lost ??= rollbackErr;
    });
    throw err;
  } finally {
    client.off('error', onError);
    client.release(lost);
  }
}
