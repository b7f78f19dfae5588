import { EventEmitter } from 'node:events';
import type { Alert, AlertAction, CameraEvent, CameraViewStatus, Problem } from '@camhub/shared';

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

/** One change of an alert. `events_attached` is not kept in history (events are), but the live feed shows it. */
export interface AlertChange {
  action: AlertAction | 'events_attached';
  alert: Alert;
  actor: string;
  at: string;
  note?: string | null;
  /** Codes and parameters (events: how many joined; reason: why the system acted), as in the alert's history. */
  data?: Record<string, unknown>;
  /** Notification targets to tell in addition to the usual ones (escalation). */
  extraTargets?: string[];
}

/** In-process events of one hub, keyed by name: what followers (alerts, live feed) can react to. */
export interface HubEventMap {
  /** Events stored for the first time (duplicates never appear here). */
  'events.stored': [events: (CameraEvent & { receivedAt: string })[]];
  'camera.status': [change: CameraStatusChange];
  'agent.state': [change: AgentStateChange];
  /** An alert changed in this process (opened, acknowledged, escalated…): notifications and the live feed. */
  'alert.change': [change: AlertChange];
}

export class HubBus extends EventEmitter<HubEventMap> {}
