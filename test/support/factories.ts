import type { AgentStatus, CameraEvent, CameraStatus, EventClip, HealthSample } from '@camhub/shared';
import { v7 as uuidv7 } from 'uuid';

let seq = 0;

/**
 * An event as an agent makes it: its id is a UUIDv7 of the moment the agent saw it, so an event made for an earlier
 * `at` has an id of that time too (history queries bound `at` windows by id days, hub/src/events/id-window.ts).
 */
export function makeEvent(overrides: Partial<CameraEvent> = {}): CameraEvent {
  seq += 1;
  return {
    v: 1,
    id: overrides.at ? uuidv7({ msecs: Date.parse(overrides.at) }) : uuidv7(),
    site: 'td-01',
    camera: 'cam-03',
    seq,
    type: 'motion',
    state: 'start',
    at: new Date().toISOString(),
    source: { kind: 'onvif', topic: 'tns1:RuleEngine/CellMotionDetector/Motion' },
    ...overrides,
  };
}

export function makeHealth(overrides: Partial<HealthSample> = {}): HealthSample {
  return {
    v: 1,
    site: 'td-01',
    camera: 'cam-03',
    at: new Date().toISOString(),
    status: 'online',
    onvif: {
      reachable: true,
      latencyMs: 42,
      eventsSubscribed: true,
      lastPullAt: new Date().toISOString(),
      clockSkewMs: 12,
    },
    stream: {
      ok: true,
      codec: 'h264',
      width: 1920,
      height: 1080,
      fps: 12.5,
      bitrateKbps: 2048,
      frozen: false,
      black: false,
    },
    problems: [],
    ...overrides,
  };
}

export function makeCameraStatus(overrides: Partial<CameraStatus> = {}): CameraStatus {
  return {
    v: 1,
    site: 'td-01',
    camera: 'cam-03',
    status: 'online',
    since: new Date().toISOString(),
    problems: [],
    ...overrides,
  };
}

export function makeAgentStatus(overrides: Partial<AgentStatus> = {}): AgentStatus {
  return {
    v: 1,
    site: 'td-01',
    agent: 'agent-test',
    state: 'online',
    version: '0.1.0',
    at: new Date().toISOString(),
    cameras: 1,
    ...overrides,
  };
}

export function makeEventClip(overrides: Partial<EventClip> = {}): EventClip {
  return {
    v: 1,
    site: 'td-01',
    camera: 'cam-03',
    event: uuidv7(),
    clip: `sha256:${'ab'.repeat(32)}`,
    startAt: new Date(Date.now() - 15_000).toISOString(),
    durationMs: 15_000,
    bytes: 480_000,
    at: new Date().toISOString(),
    ...overrides,
  };
}
