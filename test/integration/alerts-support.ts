import type { FastifyInstance, InjectOptions } from 'fastify';

export const ALERTS_TEST_ADMIN_PASSWORD = 'alerts-test-admin-pw';

/**
 * Calls the API as the bootstrap admin when access control is in place (it logs in once), and without
 * credentials when this hub has no login route.
 */
export function apiClient(hub: FastifyInstance) {
  let headers: Promise<Record<string, string>> | null = null;
  const auth = () =>
    (headers ??= hub
      .inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'admin', password: ALERTS_TEST_ADMIN_PASSWORD },
      })
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
export type ApiClient = ReturnType<typeof apiClient>;
