import { describe, expect, it } from 'vitest';
import { type AuditFields, canonicalJson, ChainVerifier, entryHash, GENESIS_HASH } from './audit-chain.js';

function chain(n: number) {
  const entries: (AuditFields & { prevHash: string; hash: string })[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const e: AuditFields = {
      seq,
      at: new Date(1_700_000_000_000 + seq).toISOString(),
      actor: 'alice',
      roles: ['police'],
      ip: '10.0.0.1',
      action: 'events.search',
      target: null,
      detail: { filters: { site: 'td-01', camera: 'cam-1' }, n: seq },
    };
    const hash = entryHash(prev, e);
    entries.push({ ...e, prevHash: prev, hash });
    prev = hash;
  }
  return entries;
}

const verify = (entries: ReturnType<typeof chain>, head = entries[entries.length - 1]!) => {
  const v = new ChainVerifier({ seq: 0, hash: GENESIS_HASH });
  for (const e of entries) v.add(e);
  return v.finish({ seq: head.seq, hash: head.hash });
};

describe(ChainVerifier.name, () => {
  it('accepts an intact chain', () => {
    expect(verify(chain(5))).toMatchObject({ ok: true, checked: 5 });
  });

  it('reports an edited entry once, at its seq', () => {
    const entries = chain(5);
    entries[2] = { ...entries[2]!, detail: { filters: { site: 'other' } } };
    const r = verify(entries);
    expect(r.problems).toEqual([expect.objectContaining({ seq: 3, problem: 'hash_mismatch' })]);
  });

  it('reports a deleted entry as a gap and a deleted tail against the head', () => {
    const entries = chain(5);
    const gap = verify([...entries.slice(0, 2), ...entries.slice(3)]);
    expect(gap.problems.map((p) => p.problem)).toEqual(['gap', 'prev_hash_mismatch']);
    const tail = verify(entries.slice(0, 4), entries[4]);
    expect(tail.problems.map((p) => p.problem)).toEqual(['head_mismatch']);
  });

  it('hashes independently of key order (jsonb reorders keys)', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}',
    );
  });
});
