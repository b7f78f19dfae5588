import type { Alert, AlertAction } from './alerts.js';
import type { CameraViewStatus, Problem } from './schemas.js';
import { IDENTIFIER_REGEX } from './ids.js';

/**
 * What the hub publishes for home automation (Home Assistant, Node-RED), below `<root>/_hub/`: a level no site can
 * take (site ids start with a letter or digit), so these topics never mix with the agents'. See docs/contract.md.
 */
export const OUT_LEVEL = '_hub';

/** `<root>/_hub/<site>/<camera>/status`, retained: the camera's status as the hub derives it. */
export interface OutCameraStatus {
  site: string;
  camera: string;
  name: string;
  status: CameraViewStatus;
  since: string | null;
  problems: Problem[];
  at: string;
}

/** `<root>/_hub/<site>/<camera>/last_event`, retained: the newest event the hub stored for the camera. */
export interface OutLastEvent {
  id: string;
  type: string;
  state: string;
  at: string;
  snapshot: boolean;
}

/** `<root>/_hub/alerts` (not retained): every alert change as it happens. */
export interface OutAlertChange {
  action: AlertAction | 'events_attached';
  actor: string;
  at: string;
  alert: Alert;
}

export function createOutTopics(root: string) {
  const base = `${root.replace(/\/+$/, '')}/${OUT_LEVEL}`;
  const id = (what: string, v: string) => {
    if (!IDENTIFIER_REGEX.test(v)) throw new Error(`${what} "${v}" is not a valid identifier`);
    return v;
  };
  return {
    /** "online" / "offline", retained; the hub's last will says "offline" (Frigate's `frigate/available`). */
    available: `${base}/available`,
    status: (site: string, camera: string) => `${base}/${id('site', site)}/${id('camera', camera)}/status`,
    /** "ON" / "OFF", retained. */
    motion: (site: string, camera: string) => `${base}/${id('site', site)}/${id('camera', camera)}/motion`,
    lastEvent: (site: string, camera: string) => `${base}/${id('site', site)}/${id('camera', camera)}/last_event`,
    alerts: `${base}/alerts`,
    /** Retained while the alert is unresolved; cleared (empty retained message) when it is resolved. */
    openAlert: (site: string, alertId: string) => `${base}/alerts/${id('site', site)}/${alertId}`,
  };
}
export type OutTopics = ReturnType<typeof createOutTopics>;
