import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { createUser, login } from '../support/auth.js';
import { buildHub, TEST_ADMIN_PASSWORD, type TestHubEnv } from '../support/hub.js';
import { useTestHub } from '../support/hub-fixture.js';
import { runHubCli } from '../support/cli.js';

let env: TestHubEnv;
let hub: FastifyInstance;

const fixture = useTestHub({ AUTH_USER_MAX_FAILURES: 3, AUTH_IP_MAX_FAILURES: 6, AUTH_COOKIE_SECURE: 'false' });
beforeAll(async () => {
  ({ env, hub } = fixture);
});

const loginFrom = (ip: string, username: string, password: string) =>
  hub.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: ip, payload: { username, password } });
const me = (headers: Record<string, string>) => hub.inject({ method: 'GET', url: '/api/v1/auth/me', headers });

/** Runs `npm run hub -- <args>` against this hub's database, as an operator would. */
const cli = (args: string[], stdin = '') => runHubCli(env.config, args, stdin);

describe('login, tokens and sessions', () => {
  it('logs in with the right password only, the same way for unknown users, and never stores it in clear', async () => {
    const u = await createUser(hub, ['operator']);
    const ok = await loginFrom('10.1.0.1', u.username, u.password);
    expect(ok.statusCode).toBe(200);
    const body = ok.json() as { token: string; expiresAt: string; refreshToken: string };
    expect(Date.parse(body.expiresAt) - Date.now()).toBeLessThanOrEqual(env.config.AUTH_TOKEN_TTL_SEC * 1000);
    const who = await me({ authorization: `Bearer ${body.token}` });
    expect(who.json()).toMatchObject({ username: u.username, roles: ['operator'], sites: null });

    const wrong = await loginFrom('10.1.0.1', u.username, 'not-the-password');
    const unknown = await loginFrom('10.1.0.1', 'no-such-user', 'whatever-password');
    expect([wrong.statusCode, unknown.statusCode]).toEqual([401, 401]);
    expect(wrong.json()).toEqual(unknown.json());

    const { rows } = await hub.pg.query('SELECT password_hash FROM users WHERE username = $1', [u.username]);
    expect(rows[0].password_hash).toMatch(/^scrypt\$/);
    const audit = await hub.pg.query("SELECT detail::text AS d, coalesce(target, '') AS t FROM audit_log");
    expect(audit.rows.some((r) => r.d.includes(u.password) || r.t.includes(u.password))).toBe(false);
  });

  it('refuses missing, malformed and forged tokens with 401', async () => {
    expect((await me({})).statusCode).toBe(401);
    expect((await me({ authorization: 'Bearer nonsense' })).statusCode).toBe(401);
    expect((await me({ authorization: 'Basic YWRtaW46YWRtaW4=' })).statusCode).toBe(401);
    const u = await createUser(hub, ['police']);
    const [p, claims, mac] = u.token.split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(claims!, 'base64url').toString()), sub: 'someone-else' }),
    ).toString('base64url');
    expect((await me({ authorization: `Bearer ${p}.${forged}.${mac}` })).statusCode).toBe(401);
  });

  it('logout revokes the token at once; refresh rotates, and a used refresh token is dead', async () => {
    const u = await createUser(hub, ['operator']);
    const first = (await loginFrom('10.1.0.2', u.username, u.password)).json() as {
      token: string;
      refreshToken: string;
    };
    const refreshed = await hub.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: first.refreshToken },
    });
    expect(refreshed.statusCode).toBe(200);
    const second = refreshed.json() as { token: string; refreshToken: string };
    expect(second.refreshToken).not.toBe(first.refreshToken);
    const reuse = await hub.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: first.refreshToken },
    });
    expect(reuse.statusCode).toBe(401);
    // Reuse of an exchanged refresh token means a copy exists: the whole session ends (issue 19).
    expect((await me({ authorization: `Bearer ${second.token}` })).statusCode).toBe(401);
    expect((await me({ authorization: `Bearer ${first.token}` })).statusCode).toBe(401);
  });

  it('logout ends the session: its token and refresh token are refused from then on', async () => {
    const u = await createUser(hub, ['operator']);
    const first = (await loginFrom('10.1.0.4', u.username, u.password)).json() as {
      token: string;
      refreshToken: string;
    };
    const second = (
      await hub.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: first.refreshToken } })
    ).json() as { token: string; refreshToken: string };
    expect((await me({ authorization: `Bearer ${second.token}` })).statusCode).toBe(200);

    const out = await hub.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: { authorization: `Bearer ${second.token}` },
    });
    expect(out.statusCode).toBe(204);
    expect((await me({ authorization: `Bearer ${second.token}` })).statusCode).toBe(401);
    // Same session: the first access token and the refresh token die with it.
    expect((await me({ authorization: `Bearer ${first.token}` })).statusCode).toBe(401);
    const after = await hub.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: second.refreshToken },
    });
    expect(after.statusCode).toBe(401);
  });

  it('gives the console httpOnly SameSite cookies, accepts them, and refuses them cross-origin', async () => {
    const u = await createUser(hub, ['admin']);
    const res = await hub.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: u.username, password: u.password, cookie: true },
    });
    const cookies = res.headers['set-cookie'] as string[];
    expect(cookies).toHaveLength(2);
    for (const c of cookies) expect(c).toMatch(/HttpOnly; SameSite=Strict/);
    const session = cookies.find((c) => c.startsWith('camhub_session='))!.split(';')[0]!;
    expect((await me({ cookie: session })).statusCode).toBe(200);
    const create = (origin: string) =>
      hub.inject({
        method: 'POST',
        url: '/api/v1/site-tokens',
        headers: { cookie: session, origin, host: 'hub.local' },
        payload: { site: 'td-01' },
      });
    expect((await create('https://evil.example')).statusCode).toBe(403);
    expect((await create('http://hub.local')).statusCode).toBe(201);
  });

  it('ends sessions when a user is disabled or their password changes, and keeps the last admin', async () => {
    const admin = { authorization: `Bearer ${await login(hub, 'admin', TEST_ADMIN_PASSWORD)}` };
    const u = await createUser(hub, ['police']);
    const patch = (username: string, body: Record<string, unknown>) =>
      hub.inject({ method: 'PATCH', url: `/api/v1/users/${username}`, headers: admin, payload: body });
    expect((await patch(u.username, { disabled: true })).statusCode).toBe(200);
    expect((await me(u.headers)).statusCode).toBe(401);
    expect((await loginFrom('10.1.0.3', u.username, u.password)).statusCode).toBe(401);
    expect((await patch(u.username, { disabled: false, password: 'a-new-password' })).statusCode).toBe(200);
    expect((await loginFrom('10.1.0.3', u.username, 'a-new-password')).statusCode).toBe(200);

    // Other admins exist by now (created by earlier tests); disable them to reach the last one.
    const admins = await hub.pg.query(
      `SELECT username FROM users WHERE 'admin' = ANY(roles) AND NOT disabled AND username <> 'admin'`,
    );
    for (const r of admins.rows) expect((await patch(r.username, { disabled: true })).statusCode).toBe(200);
    const last = await patch('admin', { roles: ['operator'] });
    expect(last.statusCode).toBe(409);
    expect(last.json().error.code).toBe('last_admin');
  });
});

describe('throttling and lockout', () => {
  it('locks a user against new IPs after repeated failures, but not against an IP it logged in from', async () => {
    const u = await createUser(hub, ['operator']);
    expect((await loginFrom('10.2.0.1', u.username, u.password)).statusCode).toBe(200); // the user's own desk
    for (let i = 0; i < 3; i++) {
      expect((await loginFrom('10.66.0.1', u.username, `guess-${i}-xxxx`)).statusCode).toBe(401);
    }
    const attacker = await loginFrom('10.66.0.2', u.username, u.password);
    expect(attacker.statusCode).toBe(429);
    expect(attacker.headers['retry-after']).toBeDefined();
    expect((await loginFrom('10.2.0.1', u.username, u.password)).statusCode).toBe(200);
  });

  it('cannot keep the admin out: their known IP still logs in, and CAMHUB_ADMIN_PASSWORD at start clears it', async () => {
    expect((await loginFrom('10.3.0.1', 'admin', TEST_ADMIN_PASSWORD)).statusCode).toBe(200);
    for (let i = 0; i < 5; i++) await loginFrom(`10.77.0.${i}`, 'admin', `guess-${i}-xxxxxxx`);
    expect((await loginFrom('10.77.1.1', 'admin', TEST_ADMIN_PASSWORD)).statusCode).toBe(429);
    expect((await loginFrom('10.3.0.1', 'admin', TEST_ADMIN_PASSWORD)).statusCode).toBe(200);

    // A restart with a new bootstrap password resets it and the failures, for every IP.
    const again = await buildHub({ ...env.config, CAMHUB_ADMIN_PASSWORD: 'rotated-admin-password' });
    try {
      const res = await again.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress: '10.77.1.1',
        payload: { username: 'admin', password: 'rotated-admin-password' },
      });
      expect(res.statusCode).toBe(200);
      expect((await loginFrom('10.3.0.1', 'admin', TEST_ADMIN_PASSWORD)).statusCode).toBe(401);
    } finally {
      await again.close();
    }
    const restored = await buildHub(env.config);
    await restored.close();
  });

  it('makes an IP with many failures wait, whoever it tries', async () => {
    for (let i = 0; i < 6; i++) await loginFrom('10.88.0.1', `nobody-${i}`, 'whatever-password');
    const u = await createUser(hub, ['operator']);
    expect((await loginFrom('10.88.0.1', u.username, u.password)).statusCode).toBe(429);
    expect((await loginFrom('10.88.0.2', u.username, u.password)).statusCode).toBe(200);
  });
});

describe('the user CLI', () => {
  it('adds a user with a password from stdin who can then log in, and lists them', async () => {
    const add = await cli(
      ['user', 'add', 'cli-officer', '--roles', 'police', '--sites', 'td-01'],
      'cli-password-123\n',
    );
    expect(add.out).toContain('"username": "cli-officer"');
    expect(add.code).toBe(0);
    const token = await login(hub, 'cli-officer', 'cli-password-123');
    expect((await me({ authorization: `Bearer ${token}` })).json()).toMatchObject({
      roles: ['police'],
      sites: ['td-01'],
    });
    const list = await cli(['user', 'list']);
    expect(list.out).toMatch(/cli-officer\tpolice\ttd-01/);
    const bad = await cli(['user', 'add', 'x-user', '--roles', 'king'], 'cli-password-123\n');
    expect(bad.code).toBe(64);
    expect(bad.out).toContain('unknown role(s) king');
    const token2 = await cli(['site-token', 'add', 'td-01']);
    expect(token2.code).toBe(0);
    expect(token2.out).toMatch(/cht1\.[A-Za-z0-9_-]{43}/);
  }, 60_000);
});
