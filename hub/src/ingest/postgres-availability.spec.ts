import { describe, expect, it } from 'vitest';
import { isPostgresUnavailable } from './postgres-availability.js';

describe(isPostgresUnavailable.name, () => {
  it.each([
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    [Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
    [Object.assign(new Error('the database system is starting up'), { code: '57P03' })],
    [new Error('Connection terminated unexpectedly')],
    [new Error('timeout exceeded when trying to connect')],
  ])('says unavailable for %s', (err) => expect(isPostgresUnavailable(err)).toBe(true));

  it.each([
    [Object.assign(new Error('value out of range'), { code: '22003' })],
    [Object.assign(new Error('duplicate key'), { code: '23505' })],
    [new Error('something else')],
    [null],
  ])('says available (a data or other error) for %s', (err) => expect(isPostgresUnavailable(err)).toBe(false));
});
