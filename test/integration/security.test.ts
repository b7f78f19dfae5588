// The access rules re-checked with an attacker's eye (access.test.ts and auth.test.ts check them as a specification):
// every site-scoped route swept for cross-site reads, tokens tampered with by fast-check, expired and foreign-key
// tokens, CORS and security headers, and forged MQTT publishes through the production broker into a real hub.
import { createTopics } from '@camhub/shared';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAccessToken } from '../../hub/src/auth/tokens.js';
import { Cleanup, track } from '../faults/support/cleanup.js';
import { ProductionMosquitto } from '../support/mosquitto.js';
import { createUser, type TestUser } from '../support/auth.js';
import { makeEvent } from '../support/factories.js';
import type { TestHubEnv } from '../support/hub.js';
import { useTestHub } from '../support/hub-fixture.js';
import { connectPublisher } from '../support/mqtt.js';
import { insertEvents } from '../support/security.js';
import { sleep, waitFor } from '../support/wait.js';

const ROOT = 'camhub/v1';
let env: TestHubEnv;
let hub: FastifyInstance;
let broker: ProductionMosquitto;
let db: pg.Pool;
const processes = new Cleanup();
let siteA: TestUser;
const theirs = makeEvent({ site: 'site-b', camera: 'cam-1' });

beforeAll(async () => {
  broker = await ProductionMosquitto.start(['site-a', 'site-b'], { onSpawn: track });
  processes.defer('mosquitto', () => broker.remove());
});
// Registered before the hub's: the broker goes last, after the hub has closed and ended its session on it.
afterAll(() => processes.run());
const fixture = useTestHub(
  () => ({
    MQTT_URL: broker.url,
    MQTT_USERNAME: 'camhub.hub',
    MQTT_PASSWORD: broker.hubPassword,
    MQTT_TOPIC_ROOT: ROOT,
  }),
  { listen: true },
);
beforeAll(async () => {
  ({ env, hub } = fixture);
  db = new pg.Pool({ connectionString: env.db.url, max: 2 });
  // Every role at once, limited to site-a: the strongest user an attacker at one site could hold.
  siteA = await createUser(hub, ['admin', 'operator', 'technician', 'police'], { sites: ['site-a'] });
  await insertEvents(hub.pg, [makeEvent({ site: 'site-a', camera: 'cam-1' }), theirs]);
  await hub.pg.query(
    `INSERT INTO cameras (site, camera) VALUES ('site-a','cam-1'), ('site-b','cam-1') ON CONFLICT DO NOTHING`,
  );
});
afterAll(async () => {
  await db?.end();
});

describe('cross-site reads (IDOR)', () => {
  it('never returns site-b data to a site-a user on any route that names a site or an event', async () => {
    const spec = hub.swagger() as {
      paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>>;
    };
    let probed = 0;
    for (const [path, methods] of Object.entries(spec.paths)) {
      const get = methods.get;
      if (!path.startsWith('/api/v1/') || !get || path === '/api/v1/live') continue;
      const params = get.parameters ?? [];
      const names = params.filter((p) => p.in === 'path').map((p) => p.name);
      const takesSiteQuery = params.some((p) => p.in === 'query' && p.name === 'site');
      if (!names.includes('site') && !names.includes('id') && !takesSiteQuery) continue;
      let url = path;
      for (const n of names) {
        const value = n === 'site' ? 'site-b' : n === 'camera' ? 'cam-1' : n === 'id' ? theirs.id : 'x';
        url = url.replace(`{${n}}`, value);
      }
      if (takesSiteQuery) url += '?site=site-b';
      const res = await hub.inject({ method: 'GET', url, headers: siteA.headers });
      probed += 1;
      if (res.statusCode < 300) expect(res.body, `${url} leaked site-b`).not.toContain('site-b');
      else expect([400, 403, 404], url).toContain(res.statusCode);
    }
    expect(probed).toBeGreaterThan(3);
  });
});

describe('tokens', () => {
  const me = (authorization: string) =>
    hub.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization } }).then((r) => r.statusCode);

  it('refuses every tampered variant of a valid token (fast-check), never 200 and never 5xx', async () => {
    expect(await me(`Bearer ${siteA.token}`)).toBe(200);
    const token = siteA.token;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: token.length - 1 }),
        fc.constantFrom('flip', 'cut', 'append', 'swap-case'),
        async (at, how) => {
          const c = token[at]!;
          const tampered =
            how === 'flip'
              ? token.slice(0, at) + (c === 'A' ? 'B' : 'A') + token.slice(at + 1)
              : how === 'cut'
                ? token.slice(0, at)
                : how === 'append'
                  ? `${token}${c}`
                  : token.slice(0, at) +
                    (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) +
                    token.slice(at + 1);
          // base64url's last character carries unused bits: a variant that decodes to the same bytes is the same token.
          const canonical = (t: string) =>
            t
              .split('.')
              .map((part, i) => (i === 0 ? part : Buffer.from(part, 'base64url').toString('base64url')))
              .join('.');
          fc.pre(canonical(tampered) !== canonical(token));
          expect(await me(`Bearer ${tampered}`)).toBe(401);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('refuses a correctly signed but expired token, one signed with another key, and claims rewritten to admin', async () => {
    const [, body] = siteA.token.split('.');
    const claims = JSON.parse(Buffer.from(body!, 'base64url').toString()) as {
      sub: string;
      sid: string;
      iat: number;
      exp: number;
    };
    const key = hub.container.keys.tokenKey;
    const past = Math.floor(Date.now() / 1000) - 10;
    expect(await me(`Bearer ${signAccessToken({ ...claims, exp: past }, key)}`)).toBe(401);
    expect(await me(`Bearer ${signAccessToken(claims, Buffer.alloc(32, 7))}`)).toBe(401);
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url');
    expect(await me(`Bearer cha1.${forged}.${siteA.token.split('.')[2]}`)).toBe(401);
    // A well-signed token for a session that does not exist (e.g. revoked and purged).
    expect(await me(`Bearer ${signAccessToken({ ...claims, sid: '00000000-0000-7000-8000-000000000000' }, key)}`)).toBe(
      401,
    );
  });
});

describe('browser-facing defences', () => {
  it('grants no CORS to another origin and sends the security headers', async () => {
    const pre = await hub.inject({
      method: 'OPTIONS',
      url: '/api/v1/events',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    const res = await hub.inject({
      method: 'GET',
      url: '/api/v1/events',
      headers: { ...siteA.headers, origin: 'https://evil.example' },
    });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(String(res.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['referrer-policy']).toBeDefined();
  });

  it('sets the console cookies HttpOnly, SameSite=Strict and Secure', async () => {
    const res = await hub.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: siteA.username, password: siteA.password, cookie: true },
    });
    const cookies = ([] as string[]).concat(res.headers['set-cookie'] as string[]);
    expect(cookies.length).toBe(2);
    for (const c of cookies) {
      expect(c).toMatch(/; HttpOnly/i);
      expect(c).toMatch(/; SameSite=Strict/i);
      expect(c).toMatch(/; Secure/i);
    }
  });
});

describe('MQTT through the production broker into the real hub', () => {
  it('refuses anonymous clients and stores nothing a site publishes under another site', async () => {
    const anonymous = await connectPublisher(broker.url, { protocolVersion: 5 }).then(
      () => 'connected',
      (err: { code?: number }) => err.code,
    );
    expect(anonymous).toBe(0x87);
    const t = createTopics(ROOT);
    const attacker = await connectPublisher(broker.url, {
      protocolVersion: 5,
      username: 'site-a',
      password: broker.password('site-a'),
    });
    const forged = makeEvent({ site: 'site-b', camera: 'cam-9' });
    const refused = await attacker.publishAsync(t.events('site-b', 'cam-9'), JSON.stringify(forged), { qos: 1 }).then(
      () => 'accepted',
      (err: { code?: number }) => err.code,
    );
    expect(refused).toBe(0x87);
    // MQTT 3.1.1 gets no refusal on the wire; the broker drops it all the same.
    const old = await connectPublisher(broker.url, {
      protocolVersion: 4,
      username: 'site-a',
      password: broker.password('site-a'),
    });
    const forged4 = makeEvent({ site: 'site-b', camera: 'cam-9' });
    await old.publishAsync(t.events('site-b', 'cam-9'), JSON.stringify(forged4), { qos: 1 });
    // A marker through the legitimate path proves the hub was listening all along.
    const marker = makeEvent({ site: 'site-a', camera: 'cam-9' });
    await old.publishAsync(t.events('site-a', 'cam-9'), JSON.stringify(marker), { qos: 1 });
    await waitFor(async () => (await db.query('SELECT 1 FROM events WHERE id = $1', [marker.id])).rowCount === 1, {
      timeoutMs: 15_000,
      what: 'marker stored',
    });
    await sleep(200);
    const { rowCount } = await db.query('SELECT 1 FROM events WHERE id = ANY($1::uuid[])', [[forged.id, forged4.id]]);
    expect(rowCount).toBe(0);
    await attacker.endAsync(true);
    await old.endAsync(true);
  });
});
