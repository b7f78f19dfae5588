import type { EventItem } from '@camhub/shared';
import { describe, expect, it } from 'vitest';
import { groupEvents } from './event-evaluation.js';
import { testEvent, testRule } from './spec-fixtures.js';

const rule = testRule;
let n = 0;
/** Each event its own id and seq. */
const event = (over: Partial<EventItem>): EventItem =>
  testEvent({ id: `00000000-0000-7000-8000-${String(++n).padStart(12, '0')}`, seq: n, ...over });
const zoneOf = () => 'Asia/Ho_Chi_Minh';

describe(groupEvents.name, () => {
  it('groups the matches of each rule per camera or per site, and leaves out disabled and health rules', () => {
    const perCamera = rule({ id: 'r-camera', eventTypes: ['intrusion'] });
    const perSite = rule({ id: 'r-site', groupBy: 'site' });
    const disabled = rule({ id: 'r-off', enabled: false });
    const health = rule({ id: 'r-health', kind: 'health', condition: 'camera_offline' });
    const a1 = event({ camera: 'cam-1', type: 'intrusion' });
    const a2 = event({ camera: 'cam-2', type: 'intrusion' });
    const a3 = event({ camera: 'cam-1', type: 'motion' });
    const b1 = event({ site: 'td-02', camera: 'cam-1', type: 'intrusion' });

    const groups = groupEvents([perCamera, perSite, disabled, health], [a1, a2, a3, b1], zoneOf);
    const seen = groups.map((g) => ({
      rule: g.ruleId,
      key: g.groupKey,
      camera: g.camera,
      events: g.events.map((e) => e.id),
    }));
    expect(seen).toEqual([
      { rule: 'r-camera', key: 'td-01/cam-1', camera: 'cam-1', events: [a1.id] },
      { rule: 'r-site', key: 'td-01', camera: null, events: [a1.id, a2.id, a3.id] },
      { rule: 'r-camera', key: 'td-01/cam-2', camera: 'cam-2', events: [a2.id] },
      { rule: 'r-camera', key: 'td-02/cam-1', camera: 'cam-1', events: [b1.id] },
      { rule: 'r-site', key: 'td-02', camera: null, events: [b1.id] },
    ]);
  });

  it('finds no group when no rule matches', () => {
    expect(groupEvents([rule({ eventTypes: ['tamper'] })], [event({})], zoneOf)).toEqual([]);
  });
});
