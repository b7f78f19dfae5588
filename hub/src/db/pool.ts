import pg from 'pg';

const INT8 = 20;

/**
 * How the hub reads PostgreSQL values, given to each of its pools rather than set in pg's global table, so that
 * importing the hub changes no other pg user in the process (tests, tools). bigint (int8) becomes a JS number: seq
 * values and counts stay far below 2^53.
 */
export const hubPgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 && format !== 'binary'
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** A pool of the hub's connections (server, CLI, or a test playing a second hub process). */
export function createHubPool(opts: { url: string; max: number; applicationName: string }): pg.Pool {
  return new pg.Pool({
    connectionString: opts.url,
    max: opts.max,
    connectionTimeoutMillis: 5000,
    application_name: opts.applicationName,
    types: hubPgTypes,
  });
}
