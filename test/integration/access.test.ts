import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import app, { fastifyOptions } from '../../hub/src/app.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROLES, type Role } from '../../hub/src/auth/access.js';
import { API_PREFIX, type RouteTableEntry } from '../../hub/src/auth/auth.plugin.js';
import { createUser, type TestUser } from '../support/auth.js';
import { makeEvent } from '../support/factories.js';
import { hubUrl, type TestHubEnv } from '../support/hub.js';
import { useTestHub } from '../support/hub-fixture.js';
import { REPO_ROOT } from '../support/processes.js';
import { insertEvents, jpeg } from '../support/security.js';

let env: TestHubEnv;
let hub: FastifyInstance;
let base: string;
const users = {} as Record<Role, TestUser>;

const fixture = useTestHub({ AGENT_TOKENS: 'env-site=env-token-0123456789' }, { listen: true });
beforeAll(async () => {
  ({ env, hub } = fixture);
  base = hubUrl(hub);
  for (const role of ROLES) users[role] = await createUser(hub, [role]);
});

const apiRoutes = () =>
  hub.routeTable.filter((r) => r.url.startsWith(API_PREFIX) && r.method !== 'HEAD' && r.method !== 'OPTIONS');

/** What a route's declaration means for each role, as the docs table writes it. */
function matrixRow(r: RouteTableEntry): string {
  const roles = r.access?.roles;
  const cells = ROLES.map((role) =>
    roles === 'public' ? 'public' : roles === 'agent' ? 'agent' : roles?.includes(role) ? 'yes' : 'no',
  );
  const scope = r.access?.siteParam ? `:${r.access.siteParam}` : r.access?.siteQuery ? `?${r.access.siteQuery}` : '';
  return `| ${r.method} | ${r.url.slice(API_PREFIX.length) || '/'} | ${cells.join(' | ')} | ${scope} |`;
}

const SAMPLE_PARAMS: Record<string, string> = {
  id: '01936b7e-8c1a-7c35-9f0e-000000000000',
  site: 'td-01',
  camera: 'cam-1',
  ref: `sha256:${'0'.repeat(64)}`,
  username: 'nobody-here',
};
const concrete = (url: string) =>
  url.replace(/:(\w+)/g, (_, name: string) => SAMPLE_PARAMS[name] ?? 'x').replace(/\*$/, 'x');

/** Error codes only the access hook answers with: the route's own 401s (a bad refresh token) are not refusals. */
const HOOK_401 = new Set(['unauthorized', 'invalid_token', 'invalid_agent_token']);

/**
 * Status, and the error code of a 401/403. Other bodies are dropped at once, so event streams (SSE) answer like
 * any other route.
 */
async function call(method: string, url: string, headers: Record<string, string> = {}) {
  const hasBody = method !== 'GET' && method !== 'DELETE';
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { ...headers, ...(hasBody ? { 'content-type': 'application/json' } : {}) },
    body: hasBody ? '{}' : undefined,
  });
  if (res.status === 401 || res.status === 403) {
    const body = (await res.json()) as { error?: { code?: string } };
    return { status: res.status, code: body.error?.code ?? '' };
  }
  await res.body?.cancel();
  return { status: res.status, code: '' };
}
const refusedByHook = (r: { status: number; code: string }) =>
  (r.status === 401 && HOOK_401.has(r.code)) || (r.status === 403 && r.code === 'forbidden');

describe('the access matrix, walked over the real route table', () => {
  it('finds every /api/v1 route declaring who may call it', () => {
    expect(apiRoutes().length).toBeGreaterThan(15);
    const undeclared = apiRoutes()
      .filter((r) => !r.access)
      .map((r) => `${r.method} ${r.url}`);
    expect(undeclared).toEqual([]);
  });

  it('matches the matrix in docs/security.md, route for route', async () => {
    const doc = await readFile(join(REPO_ROOT, 'docs/security.md'), 'utf8');
    const table = /<!-- access-matrix:start -->\n([\s\S]*?)<!-- access-matrix:end -->/.exec(doc)?.[1] ?? '';
    const documented = table
      .split('\n')
      .filter((l) => /^\| (GET|POST|PUT|PATCH|DELETE) /.test(l))
      .map((l) => l.replace(/\s+/g, ' ').trim())
      .sort();
    const actual = apiRoutes()
      .map((r) => matrixRow(r).replace(/\s+/g, ' '))
      .sort();
    // On failure, the expected rows are printed: paste them into docs/security.md.
    expect(documented, `docs/security.md should list:\n${actual.join('\n')}\n`).toEqual(actual);
  });

  it('answers 401 without a token, 403 for a role not allowed, and lets every allowed role through', async () => {
    // Users of their own: the walk calls logout, which ends the session it is called with.
    const walkers = {} as Record<Role, TestUser>;
    for (const role of ROLES) walkers[role] = await createUser(hub, [role]);
    const mismatches: string[] = [];
    const routes = apiRoutes().sort((a, b) => Number(a.url.endsWith('/logout')) - Number(b.url.endsWith('/logout')));
    for (const r of routes) {
      const url = concrete(r.url);
      const roles = r.access!.roles;
      const anonymous = await call(r.method, url);
      if (roles === 'public' ? refusedByHook(anonymous) : anonymous.status !== 401) {
        mismatches.push(`${r.method} ${r.url} anonymous: ${anonymous.status} ${anonymous.code}`);
      }
      for (const role of ROLES) {
        const res = await call(r.method, url, walkers[role].headers);
        const allowed = roles === 'public' || (roles !== 'agent' && roles.includes(role));
        let ok: boolean;
        if (roles === 'agent')
          ok = res.status === 401; // a user token is not an agent token
        else if (allowed) ok = !refusedByHook(res);
        else ok = res.status === 403 && res.code === 'forbidden';
        if (!ok) mismatches.push(`${r.method} ${r.url} as ${role}: ${res.status} ${res.code} (allowed: ${allowed})`);
      }
    }
    expect(mismatches).toEqual([]);
  }, 120_000);

  it('refuses an undeclared /api/v1 route instead of serving it', async () => {
    // A separate instance with one extra route: the shared hub's table stays exactly what the app declares.
    const probe = Fastify({ ...fastifyOptions, logger: false });
    await probe.register(app, { config: env.config, ingest: { subscribe: false, work: false }, maintenance: false });
    await probe.register(async (api) => {
      api.get('/api/v1/undeclared-probe', async () => ({ leaked: true }));
    });
    try {
      const res = await probe.inject({ method: 'GET', url: '/api/v1/undeclared-probe', headers: users.admin.headers });
      expect(res.statusCode).toBe(500);
      expect(res.json().error.code).toBe('access_not_declared');
    } finally {
      await probe.close();
    }
  });
});

describe('site scoping', () => {
  let scoped: TestUser;
  let scopedTech: TestUser;
  const mine = makeEvent({ site: 'site-a', camera: 'cam-1', snapshot: undefined });
  const theirs = makeEvent({ site: 'site-b', camera: 'cam-1' });

  beforeAll(async () => {
    scoped = await createUser(hub, ['police', 'operator'], { sites: ['site-a'] });
    scopedTech = await createUser(hub, ['technician'], { sites: ['site-a'] });
    const img = jpeg('site-b');
    await hub.container.snapshots.put(img.ref, img.bytes);
    await insertEvents(hub.pg, [mine, { ...theirs, snapshot: img.ref }]);
    await hub.pg.query(
      `INSERT INTO cameras (site, camera) VALUES ('site-a', 'cam-1'), ('site-b', 'cam-1') ON CONFLICT DO NOTHING`,
    );
  });

  const get = async (user: TestUser, url: string) => {
    const res = await hub.inject({ method: 'GET', url, headers: user.headers });
    return { status: res.statusCode, body: res.json() as { items?: { site: string }[]; error?: { code: string } } };
  };

  it("hides another site's resources behind 404 and filters lists to the user's sites", async () => {
    expect((await get(scoped, '/api/v1/events?site=site-b')).status).toBe(404);
    expect((await get(scoped, '/api/v1/events?site=site-a')).status).toBe(200);
    const all = await get(scoped, '/api/v1/events');
    expect(all.body.items!.map((e) => e.site)).toEqual(['site-a']);
    expect((await get(scoped, `/api/v1/events/${theirs.id}`)).status).toBe(404);
    expect((await get(scoped, `/api/v1/events/${theirs.id}/snapshot`)).status).toBe(404);
    expect((await get(scoped, `/api/v1/events/${mine.id}`)).status).toBe(200);
    expect((await get(scoped, '/api/v1/cameras')).body.items!.map((c) => c.site)).toEqual(['site-a']);
    expect((await get(scoped, '/api/v1/cameras?site=site-b')).status).toBe(404);
    expect((await get(scopedTech, '/api/v1/cameras/site-b/cam-1/health')).status).toBe(404);
    expect((await get(scopedTech, '/api/v1/cameras/site-a/cam-1/health')).status).toBe(200);
    // An unrestricted user sees both.
    const admin = await get(users.admin, '/api/v1/events');
    expect(new Set(admin.body.items!.map((e) => e.site))).toEqual(new Set(['site-a', 'site-b']));
  });

  it('keeps technicians away from event history and snapshots entirely', async () => {
    expect((await get(users.technician, '/api/v1/events')).status).toBe(403);
    expect((await get(users.technician, `/api/v1/events/${theirs.id}/snapshot`)).status).toBe(403);
  });
});

describe('edge agent uploads', () => {
  const put = (ref: string, bytes: Buffer, token?: string) =>
    hub.inject({
      method: 'PUT',
      url: `/api/v1/media/${ref}`,
      headers: { 'content-type': 'image/jpeg', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      payload: bytes,
    });

  it('takes a site token (database or AGENT_TOKENS), never a user token or nothing', async () => {
    const img = jpeg('upload-1');
    expect((await put(img.ref, img.bytes)).statusCode).toBe(401);
    expect((await put(img.ref, img.bytes, users.admin.token)).statusCode).toBe(401);
    const created = await hub.container.services.auth.createSiteToken('td-01', 'test', {
      actor: 'test',
      roles: [],
      ip: null,
    });
    expect((await put(img.ref, img.bytes, created.token)).statusCode).toBe(201);
    const img2 = jpeg('upload-2');
    expect((await put(img2.ref, img2.bytes, 'env-token-0123456789')).statusCode).toBe(201);
    await hub.container.services.auth.revokeSiteToken(created.id, { actor: 'test', roles: [], ip: null });
    const img3 = jpeg('upload-3');
    expect((await put(img3.ref, img3.bytes, created.token)).statusCode).toBe(401);
    const stored = await hub.pg.query('SELECT token_hash FROM site_tokens WHERE id = $1', [created.id]);
    expect(stored.rows[0].token_hash).not.toContain(created.token);
  });
});
