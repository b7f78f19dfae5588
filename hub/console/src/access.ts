import type { Role, User } from './api.js';

export type ViewName = 'wall' | 'camera' | 'alerts' | 'health' | 'history' | 'reports' | 'admin';

/**
 * Which roles open which view, mirroring the hub's route access (hub/src/auth/access.ts): history and snapshots are
 * for EVENT_READERS (admin, operator, police), health for HEALTH_READERS (admin, operator, technician). The console
 * hides what the API would refuse; the API still decides.
 */
const VIEW_ROLES: Record<ViewName, readonly Role[]> = {
  wall: ['admin', 'operator'],
  camera: ['admin', 'operator'],
  alerts: ['admin', 'operator'],
  health: ['admin', 'operator', 'technician'],
  history: ['admin', 'operator', 'police'],
  // The committee's figures: aggregates, no footage (hub: REPORT_READERS).
  reports: ['admin', 'operator', 'police'],
  // Technicians install and maintain cameras: of administration they open the cameras registry only (the hub's
  // /sites/:site/cameras allows admins and technicians, each limited to their sites).
  admin: ['admin', 'technician'],
};

export const EVENT_READERS: readonly Role[] = ['admin', 'operator', 'police'];
export const HEALTH_READERS: readonly Role[] = ['admin', 'operator', 'technician'];
export const ALERT_HANDLERS: readonly Role[] = ['admin', 'operator'];

/** The administration tabs each role opens; a tab not listed is for admins only. */
const ADMIN_TAB_ROLES: Record<string, readonly Role[]> = { cameras: ['admin', 'technician'] };

export function canOpenAdminTab(user: User, tab: string): boolean {
  return hasAnyRole(user, ADMIN_TAB_ROLES[tab] ?? ['admin']);
}

export function hasAnyRole(user: User, roles: readonly Role[]): boolean {
  return user.roles.some((r) => roles.includes(r));
}

export function canOpen(user: User, view: ViewName): boolean {
  return hasAnyRole(user, VIEW_ROLES[view]);
}

/** Where a user lands: the first view their roles open, in the order of the navigation. */
export function homeView(user: User): ViewName | null {
  const order: ViewName[] = ['wall', 'health', 'history', 'alerts', 'admin'];
  return order.find((v) => canOpen(user, v)) ?? null;
}

export const NAV_VIEWS: ViewName[] = ['wall', 'alerts', 'health', 'history', 'reports', 'admin'];
