import type { FastifyRequest } from 'fastify';
import type { Role } from '../auth/access.js';

/** Who did it, for alert history: the logged-in user (set by the access hook on every alert route). */
export function actorOf(req: FastifyRequest): string {
  return req.user?.username ?? 'anonymous';
}

/** Roles of the caller; null when no user is known (then nothing is filtered by role). */
export function rolesOf(req: FastifyRequest): readonly Role[] | null {
  return req.user?.roles ?? null;
}

/** Sites the caller is limited to (undefined: every site). */
export function sitesOf(req: FastifyRequest): string[] | undefined {
  return req.user?.sites ?? undefined;
}
