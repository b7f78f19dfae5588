import type { FastifyInstance } from 'fastify';
import { createHubPool } from '../../hub/src/db/pool.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAuditRepository } from '../../hub/src/audit/audit.repository.js';
import { createAuditService } from '../../hub/src/audit/audit.service.js';
import { createUser, type TestUser } from '../support/auth.js';
import { runHubCli } from '../support/cli.js';
import { makeEvent } from '../support/factories.js';
import { type TestHubEnv } from '../support/hub.js';
import { useTestHub } from '../support/hub-fixture.js';
import { insertEvents, jpeg } from '../support/security.js';
import { waitFor } from '../support/wait.js';

let env: TestHubEnv;
let hub: FastifyInstance;
let police: TestUser;
let operator: TestUser;
let admin: TestUser;

const fixture = useTestHub();
beforeAll(async () => {
  ({ env, hub } = fixture);
  police = await createUser(hub, ['police']);
  operator = await createUser(hub, ['operator']);
  admin = await createUser(hub, ['admin']);
});

interface Entry {
  seq: number;
  actor: string | null;
  action: string;
  target: string | null;
  detail: Record<string, unknown>;
}
const audit = async (user: TestUser, query = '') => {
  const res = await hub.inject({ method: 'GET', url: `/api/v1/audit${query}`, headers: user.headers });
  return { status: res.statusCode, items: (res.json() as { items: Entry[] }).items };
};

describe('the audit trail', () => {
  it('records logins, failed logins, searches with their filters, snapshot views and changes', async () => {
    const img = jpeg('audited');
    await hub.container.snapshots.put(img.ref, img.bytes);
    const e = makeEvent({ site: 'aud', camera: 'cam-1', snapshot: img.ref });
    await insertEvents(hub.pg, [e]);
    await hub.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: police.username, password: 'wrong-password' },
    });
    const search = await hub.inject({
      method: 'GET',
      url: '/api/v1/events?site=aud&camera=cam-1&type=motion',
      headers: police.headers,
    });
    expect(search.statusCode).toBe(200);
    const snap = await hub.inject({ method: 'GET', url: `/api/v1/events/${e.id}/snapshot`, headers: police.headers });
    expect(snap.statusCode).toBe(200);
    await hub.inject({ method: 'GET', url: '/api/v1/users', headers: operator.headers });

    const { items } = await audit(admin, '?limit=1000');
    const mine = items.filter((i) => i.actor === police.username);
    const actions = mine.map((i) => i.action);
    expect(actions).toEqual(
      expect.arrayContaining(['auth.login', 'auth.login_failed', 'events.search', 'snapshot.view']),
    );
    expect(mine.find((i) => i.action === 'auth.login_failed')!.detail).toEqual({ reason: 'bad_password' });
    expect(mine.find((i) => i.action === 'events.search')!.detail).toMatchObject({
      filters: { site: 'aud', camera: 'cam-1', type: 'motion' },
      results: 1,
    });
    expect(mine.find((i) => i.action === 'snapshot.view')).toMatchObject({
      target: e.id,
      detail: { site: 'aud', camera: 'cam-1', snapshot: img.ref },
    });
    expect(items.find((i) => i.action === 'user.create' && i.target === police.username)).toBeDefined();
    // Refusals are written once the response has gone out (onResponse), so this one may trail by a moment.
    const denied = await waitFor(async () =>
      (await audit(admin, '?action=access.denied')).items.find((i) => i.actor === operator.username),
    );
    expect(denied).toMatchObject({ target: 'GET /api/v1/users' });
  });

  it('records other state-changing requests (route and parameters, not the body)', async () => {
    const res = await hub.inject({
      method: 'POST',
      url: '/api/v1/webhooks',
      headers: admin.headers,
      payload: { name: 'audit-test', url: 'https://example.invalid/hook', secret: 'do-not-log-this-secret' },
    });
    expect(res.statusCode).toBeLessThan(400);
    // Written after the response has gone out (onResponse), so it may trail the reply by a moment.
    const entry = await waitFor(async () =>
      (await audit(admin, '?action=api.')).items.find((i) => i.target === 'POST /api/v1/webhooks'),
    );
    expect(entry).toMatchObject({ actor: admin.username, detail: { status: res.statusCode } });
    expect(JSON.stringify((await audit(admin, '?limit=1000')).items)).not.toContain('do-not-log-this-secret');
  });

  it('lets police read only their own entries, and nobody else but admins', async () => {
    const own = await audit(police, `?actor=${admin.username}`);
    expect(own.status).toBe(200);
    expect(own.items.length).toBeGreaterThan(0);
    expect(new Set(own.items.map((i) => i.actor))).toEqual(new Set([police.username]));
    expect((await audit(operator)).status).toBe(403);
    const prefix = await audit(admin, '?action=auth.');
    // The logins of beforeAll wrote auth.* entries: an empty answer would make `every` pass vacuously.
    expect(prefix.items.length).toBeGreaterThan(0);
    expect(prefix.items.every((i) => i.action.startsWith('auth.'))).toBe(true);
  });

  it('keeps one unforked chain when two hub processes append at once', async () => {
    // A second pool plays a second hub process: both append through the same head row lock.
    const other = createHubPool({ url: env.db.url, max: 5, applicationName: 'camhub-test-second-hub' });
    try {
      const a = createAuditService(createAuditRepository(hub.pg));
      const b = createAuditService(createAuditRepository(other));
      const who = { actor: 'concurrency', roles: [], ip: null };
      await Promise.all(
        Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).record(who, { action: 'events.search', detail: { i } })),
      );
    } finally {
      await other.end();
    }
    const { rows } = await hub.pg.query('SELECT count(*)::int AS n, max(seq)::int AS m FROM audit_log');
    expect(rows[0].n).toBe(rows[0].m);
    expect(await hub.container.services.audit.verify()).toMatchObject({ ok: true, problems: [] });
  });

  it('verifies the chain, and finds an edited row, a deleted row and a deleted tail', async () => {
    const ok = await runHubCli(env.config, ['verify-audit']);
    expect(ok.out).toMatch(/audit chain intact: \d+ entries/);
    expect(ok.code).toBe(0);
    const api = await hub.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: admin.headers });
    expect(api.json()).toMatchObject({ ok: true });

    const { rows } = await hub.pg.query<{ seq: number }>(
      `SELECT seq FROM audit_log WHERE action = 'snapshot.view' ORDER BY seq LIMIT 1`,
    );
    const edited = rows[0]!.seq;
    // Someone with database access hides who looked at the snapshot.
    await hub.pg.query(`UPDATE audit_log SET actor = 'nobody' WHERE seq = $1`, [edited]);
    const broken = await runHubCli(env.config, ['verify-audit']);
    expect(broken.code).toBe(1);
    expect(broken.out).toContain(`entry ${edited}: hash_mismatch`);

    await hub.pg.query(`DELETE FROM audit_log WHERE seq = $1`, [edited + 1]);
    const r = await hub.container.services.audit.verify();
    expect(r.problems.map((p) => `${p.seq}:${p.problem}`)).toEqual(
      expect.arrayContaining([`${edited}:hash_mismatch`, `${edited + 2}:gap`]),
    );

    const head = await hub.container.services.audit.verify();
    await hub.pg.query('DELETE FROM audit_log WHERE seq = $1', [head.head.seq]);
    const tail = await hub.container.services.audit.verify();
    expect(tail.problems.map((p) => p.problem)).toContain('head_mismatch');
  });
});
