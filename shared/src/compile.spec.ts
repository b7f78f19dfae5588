import { FormatRegistry, Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { ISO_TIME_FORMAT, IsoTimeSchema } from './ids.js';
import { compileSchema } from './compile.js';

describe('compileSchema', () => {
  it('leaves TypeBox untouched on import and registers the contract formats when a schema is compiled', () => {
    // Importing the schemas alone must not change TypeBox for the process.
    expect(FormatRegistry.Has(ISO_TIME_FORMAT)).toBe(false);
    const check = compileSchema(Type.Object({ at: IsoTimeSchema }));
    expect(FormatRegistry.Has(ISO_TIME_FORMAT)).toBe(true);
    expect(check.Check({ at: '2026-11-22T14:05:09.120Z' })).toBe(true);
    // The shape is right; the instant is not: the format refuses it.
    expect(check.Check({ at: '2026-02-31T00:00:00Z' })).toBe(false);
    expect(check.Check({ at: '0000-01-01T00:00:00Z' })).toBe(false);
  });
});
