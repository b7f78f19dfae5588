import { AUDIT_ACTIONS } from '@camhub/shared';
import { describe, expect, it } from 'vitest';
import { en } from './en.js';
import { vi } from './vi.js';

// The audit page words every entry from these catalogues; an action missing here shows as a bare code.
describe('console catalogues', () => {
  it('word every audit action the hub writes, in Vietnamese and in English', () => {
    const missing = (catalogue: Record<string, string>) =>
      AUDIT_ACTIONS.filter((action) => !(`audit.${action}` in catalogue));
    expect({ vi: missing(vi), en: missing(en) }).toEqual({ vi: [], en: [] });
  });

  it('have the same keys in both languages, none of them empty', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(vi).sort());
    const empty = Object.entries({ ...vi, ...en }).filter(([, text]) => text.trim() === '');
    expect(empty).toEqual([]);
  });
});
