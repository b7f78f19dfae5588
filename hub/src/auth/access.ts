/** Roles of people using camhub. A user may hold several. */
export const ROLES = ['admin', 'operator', 'technician', 'police'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Who may call a route, declared on the route itself (`config: { access }`) and enforced in one place.
 * - `roles`: the roles allowed (a user needs at least one of them), or `public` (no login: ops endpoints, login),
 *   or `agent` (an edge agent's per-site token, never a user's password).
 * - `siteParam` / `siteQuery`: the route is about one site, named by that path parameter or query parameter; users
 *   limited to some sites get 404 for other sites' resources.
 */
export interface RouteAccess {
  roles: readonly Role[] | 'public' | 'agent';
  siteParam?: string;
  siteQuery?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}

export const ALL_ROLES: readonly Role[] = ROLES;
/** Who sees people's movements (event history and snapshots). Technicians deliberately do not. */
export const EVENT_READERS: readonly Role[] = ['admin', 'operator', 'police'];
/** Who sees camera health. */
export const HEALTH_READERS: readonly Role[] = ['admin', 'operator', 'technician'];
