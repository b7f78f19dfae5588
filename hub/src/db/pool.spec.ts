import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { hubPgTypes } from './pool.js';

describe('hubPgTypes', () => {
  it('reads bigint as a number on the hub pools only, leaving the global parsers of pg alone', () => {
    const int8 = hubPgTypes.getTypeParser(20, 'text') as (v: string) => unknown;
    expect(int8('9007199254740991')).toBe(9007199254740991);
    expect((pg.types.getTypeParser(20, 'text') as (v: string) => unknown)('42')).toBe('42');
    // Every other type keeps pg's parser (int4 already a number, timestamptz a Date).
    expect((hubPgTypes.getTypeParser(23, 'text') as (v: string) => unknown)('7')).toBe(7);
    expect(hubPgTypes.getTypeParser(1184, 'text')('2026-11-26 01:00:00+00')).toBeInstanceOf(Date);
  });
});
