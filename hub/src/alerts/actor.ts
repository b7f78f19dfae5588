import type { FastifyRequest } from 'fastify';

/** The caller as the access hook set it (`req.user`); read structurally so alerts do not depend on how auth works. */
interface RequestUser {
  username?: string;
  roles?: string[];
  sites?: string[] | null;
}
const userOf = (req: FastifyRequest) => (req as FastifyRequest & { user?: RequestUser }).user;

/** Who did it, for alert history: the logged-in user's name. */
export function actorOf(req: FastifyRequest): string {
  return userOf(req)?.username ?? 'anonymous';
}

/** Roles of the caller; null when no access control ran (then nothing is filtered by role). */
export function rolesOf(req: FastifyRequest): string[] | null {
  return userOf(req)?.roles ?? null;
}

/** Sites the caller is limited to (undefined: every site). */
export function sitesOf(req: FastifyRequest): string[] | undefined {
  return userOf(req)?.sites ?? undefined;
}
