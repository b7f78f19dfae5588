import { EventEmitter } from 'node:events';
import type { CameraEvent, CameraViewStatus, Problem } from '@camhub/shared';

export interface CameraStatusChange {
  site: string;
  camera: string;
  from: CameraViewStatus;
  to: CameraViewStatus;
  problems: Problem[];
  at: string;
}

export interface AgentStateChange {
  site: string;
  agent: string;
  state: 'online' | 'offline';
  at: string;
}

/** In-process events of one hub, keyed by name: what followers (alerts, live feed) can react to. */
export interface HubEventMap {
  /** Events stored for the first time (duplicates never appear here). */
  'events.stored': [events: (CameraEvent & { receivedAt: string })[]];
  'camera.status': [change: CameraStatusChange];
  'agent.state': [change: AgentStateChange];
}

export class HubBus extends EventEmitter<HubEventMap> {}
