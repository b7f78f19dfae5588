import type { FastifyRequest } from 'fastify';
import type { AuditActor } from '../audit/audit.service.js';
import { NotFoundError } from '../errors.js';
import type { AuthUser } from './auth.service.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the access hook on every route that requires a login. */
    user?: AuthUser;
    /** Set on `agent` routes: the site whose upload token was presented. */
    agent?: { site: string };
  }
}

export const SESSION_COOKIE = 'camhub_session';
export const REFRESH_COOKIE = 'camhub_refresh';

/** The bearer token of a request, if it has one. */
export function bearerToken(req: FastifyRequest): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}

/** One cookie's value; the console's only cookies are ours, so a full parser is not needed. */
export function readCookie(req: FastifyRequest, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(value);
      } catch {
        return null; // malformed encoding: same as no cookie
      }
    }
  }
  return null;
}

export function serializeCookie(
  name: string,
  value: string,
  opts: { path: string; maxAgeSec: number; secure: boolean },
): string {
  const parts = [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${opts.path}`,
    `Max-Age=${Math.max(0, Math.floor(opts.maxAgeSec))}`,
    'HttpOnly',
    'SameSite=Strict',
  ];
  if (opts.secure) parts.push('Secure');
  return parts.join('; ');
}

/** Who made this request, for the audit trail. */
export function auditActor(req: FastifyRequest): AuditActor {
  if (req.user) return { actor: req.user.username, roles: req.user.roles, ip: req.ip };
  if (req.agent) return { actor: `agent:${req.agent.site}`, roles: [], ip: req.ip };
  return { actor: null, roles: [], ip: req.ip };
}

/** The sites a list query must be limited to (undefined: every site). */
export function siteScope(req: FastifyRequest): { sites?: string[] } {
  return req.user?.sites ? { sites: req.user.sites } : {};
}

/** A resource of another site is answered like a missing one: its existence is not the user's business. */
export function assertSiteVisible(req: FastifyRequest, site: string, what: string): void {
  const sites = req.user?.sites;
  if (sites && !sites.includes(site)) throw new NotFoundError(what);
}
