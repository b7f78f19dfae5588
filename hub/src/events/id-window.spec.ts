import { describe, expect, it } from 'vitest';
import { eventsParts, idFloor, idRange, intersect, orderedPage } from './id-window.js';

describe('id window', () => {
  it('writes the smallest UUIDv7 of an instant, as events_id_floor does', () => {
    expect(idFloor(0)).toBe('00000000-0000-0000-0000-000000000000');
    expect(idFloor(0x0123456789ab)).toBe('01234567-89ab-0000-0000-000000000000');
    expect(idFloor(-5)).toBe('00000000-0000-0000-0000-000000000000');
  });

  it('widens the window by the margin, and has no range without a bound or with the margin off', () => {
    const from = '2026-11-20T10:00:00.000Z';
    const to = '2026-11-21T10:00:00.000Z';
    const r = idRange({ from, to }, 60_000)!;
    expect(r.lo).toBe(idFloor(Date.parse(from) - 60_001));
    expect(r.hi).toBe(idFloor(Date.parse(to) + 60_001));
    expect(idRange({ to, toInclusive: true }, 0)).toEqual({ hi: idFloor(Date.parse(to) + 2) });
    expect(idRange({}, 60_000)).toBeNull();
    expect(idRange({ from, to }, -1)).toBeNull();
    expect(intersect({ lo: idFloor(5), hi: idFloor(50) }, { lo: idFloor(9), hi: idFloor(99) })).toEqual({
      lo: idFloor(9),
      hi: idFloor(50),
    });
    expect(intersect(null, { hi: idFloor(3) })).toEqual({ hi: idFloor(3) });
  });

  it('reads the day partitions of the range and the rest of events_default, as two statements', () => {
    const values: unknown[] = [];
    const param = (v: unknown) => `$${values.push(v)}`;
    const parts = eventsParts({ lo: idFloor(1), hi: idFloor(2) }, ['site = $9'], param);
    expect(parts).toEqual([
      'FROM events WHERE site = $9 AND id >= $1::uuid AND id < $2::uuid',
      'FROM events_default events WHERE site = $9 AND NOT (id >= $1::uuid AND id < $2::uuid)',
    ]);
    expect(eventsParts(null, [], param)).toEqual(['FROM events']);
    expect(orderedPage(['FROM a', 'FROM b'], 'id', 'at DESC', '$3')).toBe(
      '(SELECT id FROM a ORDER BY at DESC LIMIT $3) UNION ALL (SELECT id FROM b ORDER BY at DESC LIMIT $3) ORDER BY at DESC LIMIT $3',
    );
  });
});
