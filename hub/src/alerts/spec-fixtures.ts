import type { AlertRule, EventItem } from '@camhub/shared';

// The rule and event the alert specs build on (rules.spec.ts, event-evaluation.spec.ts). Only specs import this file;
// the release bundle, built from the hub's entry points, leaves it out.

/** An enabled per-camera event rule with no filters, changed by `over`. */
export const testRule = (over: Partial<AlertRule>): AlertRule => ({
  id: '00000000-0000-4000-8000-000000000001',
  kind: 'event',
  name: 'r',
  description: null,
  enabled: true,
  severity: 'warning',
  sites: null,
  cameras: null,
  eventTypes: null,
  schedule: null,
  threshold: null,
  groupBy: 'camera',
  cooldownSec: 0,
  condition: null,
  forSec: 0,
  boundMs: null,
  escalateAfterSec: null,
  escalateTo: [],
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

/** A motion start at td-01/cam-1 (id and seq 1 unless `over` says otherwise). */
export const testEvent = (over: Partial<EventItem>): EventItem => ({
  v: 1,
  id: '00000000-0000-7000-8000-000000000001',
  site: 'td-01',
  camera: 'cam-1',
  seq: 1,
  type: 'motion',
  state: 'start',
  at: '2026-11-22T16:00:00.000Z',
  source: { kind: 'onvif' },
  receivedAt: '2026-11-22T16:00:00.100Z',
  ...over,
});
