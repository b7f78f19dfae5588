import type { AlertRule } from '@camhub/shared';
import { describe, expect, it } from 'vitest';
import { EMPTY_RULE, formOfRule, inputOfForm, ruleProblems, toggled } from './rule-form.js';

const known = (zone: string) => zone === 'Asia/Ho_Chi_Minh';

const nightMotion: AlertRule = {
  id: '01936b7e-8c1a-7c35-9f0e-000000000001',
  kind: 'event',
  name: 'Chuyển động ban đêm',
  description: 'Chuyển động 22:00-05:00',
  enabled: false,
  severity: 'warning',
  sites: null,
  cameras: null,
  eventTypes: ['motion'],
  schedule: { windows: [{ start: '22:00', end: '05:00' }] },
  threshold: { count: 3, windowSec: 60 },
  groupBy: 'camera',
  cooldownSec: 600,
  condition: null,
  forSec: 0,
  boundMs: null,
  escalateAfterSec: null,
  escalateTo: [],
  createdAt: '2026-11-01T00:00:00.000Z',
  updatedAt: '2026-11-01T00:00:00.000Z',
};

describe('rule form', () => {
  it('round-trips a stored rule into the same input', () => {
    expect(inputOfForm(formOfRule(nightMotion))).toEqual({
      kind: 'event',
      name: 'Chuyển động ban đêm',
      description: 'Chuyển động 22:00-05:00',
      enabled: false,
      severity: 'warning',
      sites: null,
      cameras: null,
      escalateAfterSec: null,
      escalateTo: [],
      eventTypes: ['motion'],
      schedule: { windows: [{ start: '22:00', end: '05:00' }] },
      threshold: { count: 3, windowSec: 60 },
      groupBy: 'camera',
      cooldownSec: 600,
    });
    expect(toggled(nightMotion)).toMatchObject({ enabled: true, threshold: { count: 3, windowSec: 60 } });
  });

  it('names each problem by its field, and drops cameras outside the chosen sites', () => {
    const f = {
      ...EMPTY_RULE,
      name: ' ',
      windows: [
        { start: '25:00', end: '05:00', days: [] },
        { start: '08:00', end: '08:00', days: [1] },
      ],
      timeZone: 'Mars/Base',
      thresholdCount: '3',
      cooldownSec: '-1',
      escalateAfterSec: '0',
    };
    expect(ruleProblems(f, known)).toEqual([
      { key: 'rules.v.name' },
      { key: 'rules.v.window', params: { n: 1 } },
      { key: 'rules.v.windowEmpty', params: { n: 2 } },
      { key: 'rules.v.timeZone' },
      { key: 'rules.v.threshold' },
      { key: 'rules.v.cooldown' },
      { key: 'rules.v.escalateAfter' },
    ]);
    const health = { ...EMPTY_RULE, kind: 'health' as const, name: 'Lệch giờ', condition: 'clock_skew' as const };
    expect(ruleProblems(health, known)).toEqual([{ key: 'rules.v.boundMs' }]);
    const scoped = inputOfForm({ ...EMPTY_RULE, name: 'x', sites: ['a'], cameras: ['a/cam-1', 'b/cam-2'] });
    expect(scoped).toMatchObject({ sites: ['a'], cameras: ['a/cam-1'] });
  });
});
