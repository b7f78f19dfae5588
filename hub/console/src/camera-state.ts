import type { CameraItem } from './api.js';

/**
 * What the console shows as a camera's state: its measured status, or `disabled` when it was switched off in the
 * registry (nothing measures it any more, so its last status would stay frozen on screen, green or red).
 */
export const shownStatus = (c: Pick<CameraItem, 'status' | 'enabled'>): string =>
  c.enabled === false ? 'disabled' : c.status;
export const measuring = (c: Pick<CameraItem, 'status' | 'enabled'>) =>
  c.enabled !== false && (c.status === 'online' || c.status === 'degraded');
