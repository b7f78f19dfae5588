import type { FastifyInstance } from 'fastify';
import type { Role } from '../../hub/src/auth/access.js';
import { uniqueToken } from './ids.js';
import { TEST_ADMIN_PASSWORD } from './hub.js';

export interface TestUser {
  username: string;
  password: string;
  token: string;
  headers: { authorization: string };
}

/** Logs in through the API, as any client would; throws with the response when it fails. */
export async function login(hub: FastifyInstance, username: string, password: string): Promise<string> {
  const res = await hub.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });
  if (res.statusCode !== 200) throw new Error(`login as ${username} failed: ${res.statusCode} ${res.body}`);
  return (res.json() as { token: string }).token;
}

/** A fresh user with these roles (and sites), logged in. */
export async function createUser(
  hub: FastifyInstance,
  roles: Role[],
  opts: { sites?: string[] | null; username?: string } = {},
): Promise<TestUser> {
  const username = opts.username ?? `${roles.join('-')}-${uniqueToken()}`.slice(0, 64);
  const password = `pw-${uniqueToken()}`;
  await hub.container.services.users.create(
    { username, password, roles, sites: opts.sites ?? null },
    { actor: 'test', roles: [], ip: null },
  );
  const token = await login(hub, username, password);
  return { username, password, token, headers: { authorization: `Bearer ${token}` } };
}

const cache = new WeakMap<FastifyInstance, Map<string, Promise<{ authorization: string }>>>();

/**
 * `Authorization` headers for a role on this hub: the bootstrap admin for 'admin', otherwise a user created once per
 * hub and role.
 */
export function authHeaders(hub: FastifyInstance, role: Role = 'admin'): Promise<{ authorization: string }> {
  let perHub = cache.get(hub);
  if (!perHub) cache.set(hub, (perHub = new Map()));
  let headers = perHub.get(role);
  if (!headers) {
    headers =
      role === 'admin'
        ? login(hub, 'admin', TEST_ADMIN_PASSWORD).then((t) => ({ authorization: `Bearer ${t}` }))
        : createUser(hub, [role]).then((u) => u.headers);
    perHub.set(role, headers);
  }
  return headers;
}
