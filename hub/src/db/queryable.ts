import type pg from 'pg';

/** The least a repository needs: a Pool, a PoolClient in a transaction, or a Client all fit. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** Runs `fn` in one transaction on a pooled connection. */
export async function withTransaction<T>(pool: pg.Pool, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackErr: Error) => {
      // The connection is likely broken; the original error is the one worth reporting.
      (err as Error & { rollbackError?: Error }).rollbackError = rollbackErr;
    });
    throw err;
  } finally {
    client.release();
  }
}
