import type { FastifyInstance, InjectOptions } from 'fastify';
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

/**
 * Calls the hub's API (inject) as the bootstrap admin (logged in once, on the first call), answers `{ status, body }`.
 * A hub without a login route (404) is called without credentials.
 */
export function adminApi(hub: FastifyInstance, password = TEST_ADMIN_PASSWORD) {
  let headers: Promise<Record<string, string>> | null = null;
  const auth = () =>
    (headers ??= hub
      .inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'admin', password } })
      .then((res): Record<string, string> => {
        if (res.statusCode === 404) return {};
        if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
        return { authorization: `Bearer ${(res.json() as { token: string }).token}` };
      }));
  const call = async <T = unknown>(method: InjectOptions['method'], url: string, payload?: unknown) => {
    const opts: InjectOptions = { method, url, headers: await auth() };
    if (payload !== undefined) opts.payload = payload as InjectOptions['payload'];
    const res = await hub.inject(opts);
    return { status: res.statusCode, body: (res.body ? res.json() : null) as T };
  };
  return {
    headers: auth,
    get: <T = unknown>(url: string) => call<T>('GET', url),
    post: <T = unknown>(url: string, body: unknown = {}) => call<T>('POST', url, body),
    put: <T = unknown>(url: string, body: unknown) => call<T>('PUT', url, body),
    patch: <T = unknown>(url: string, body: unknown) => call<T>('PATCH', url, body),
    del: (url: string) => call('DELETE', url),
  };
}
export type AdminApi = ReturnType<typeof adminApi>;
