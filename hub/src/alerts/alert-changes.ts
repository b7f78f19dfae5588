import { EventEmitter } from 'node:events';
import type { Alert, AlertAction } from '@camhub/shared';

/** One change of an alert. `events_attached` is not kept in history (events are), but the live feed shows it. */
export interface AlertChange {
  action: AlertAction | 'events_attached';
  alert: Alert;
  actor: string;
  at: string;
  note?: string | null;
  /** Notification targets to tell in addition to the usual ones (escalation). */
  extraTargets?: string[];
}

/** Alert changes made by this process; the notifier and the live feed listen. */
export class AlertChanges extends EventEmitter<{ change: [AlertChange] }> {}
