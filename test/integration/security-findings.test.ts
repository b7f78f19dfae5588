// Issue 19, findings 5 and 8: audit gaps, cacheable snapshots, and the low findings (weak passwords, reserved
// names, refresh-token reuse, rejected event payloads shown to technicians, webhook credentials returned,
// world-readable files, events dated in the future), each against a real hub and PostgreSQL.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox, type SecretBox } from '../../hub/src/notify/secrets.js';
import { createUser, type TestUser } from '../support/auth.js';
import { makeEvent } from '../support/factories.js';
import { hubUrl, type TestHubEnv } from '../support/hub.js';
import { useTestHub } from '../support/hub-fixture.js';
import { insertEvents, jpeg } from '../support/security.js';
import { openSse } from '../support/sse.js';
import { waitFor } from '../support/wait.js';

let env: TestHubEnv;
let hub: FastifyInstance;
let admin: TestUser;
let operator: TestUser;
let box: SecretBox;

const fixture = useTestHub({}, { listen: true });
beforeAll(async () => {
  ({ env, hub } = fixture);
  admin = await createUser(hub, ['admin']);
  operator = await createUser(hub, ['operator']);
  box = createSecretBox(hub.container.keys.secretsKey);
});

const auditRows = async (action: string, actor: string) =>
  (
    await hub.pg.query<{ target: string | null; detail: Record<string, unknown> }>(
      'SELECT target, detail FROM audit_log WHERE action = $1 AND actor = $2 ORDER BY seq',
      [action, actor],
    )
  ).rows;

describe('finding 5: audit gaps and cacheable snapshots', () => {
  it('records event.view and alert.view, and sends snapshots no-store', async () => {
    const img = jpeg('finding-5');
    await hub.container.snapshots.put(img.ref, img.bytes);
    const e = makeEvent({ site: 'f5', camera: 'cam-1', snapshot: img.ref });
    await insertEvents(hub.pg, [e]);
    const one = await hub.inject({ method: 'GET', url: `/api/v1/events/${e.id}`, headers: operator.headers });
    expect(one.statusCode).toBe(200);
    expect(await auditRows('event.view', operator.username)).toEqual([
      { target: e.id, detail: expect.objectContaining({ site: 'f5', camera: 'cam-1' }) },
    ]);

    const snap = await hub.inject({ method: 'GET', url: `/api/v1/events/${e.id}/snapshot`, headers: operator.headers });
    expect(snap.statusCode).toBe(200);
    expect(snap.headers['cache-control']).toBe('no-store');

    const { rows } = await hub.pg.query<{ id: string }>(
      `INSERT INTO alerts (rule_name, kind, group_key, severity, status, site, camera, title, opened_at, updated_at)
       VALUES ('r', 'event', 'f5/cam-1', 'warning', 'open', 'f5', 'cam-1', 'motion', now(), now()) RETURNING id`,
    );
    const alertId = rows[0]!.id;
    const alert = await hub.inject({ method: 'GET', url: `/api/v1/alerts/${alertId}`, headers: operator.headers });
    expect(alert.statusCode).toBe(200);
    expect(await auditRows('alert.view', operator.username)).toEqual([
      { target: alertId, detail: expect.objectContaining({ site: 'f5' }) },
    ]);
  });

  it('records live.open and live.close for the live feed', async () => {
    const u = await createUser(hub, ['operator']);
    const stream = await openSse(`${hubUrl(hub)}/api/v1/live`, u.headers);
    expect(stream.status()).toBe(200);
    const opened = await waitFor(async () => (await auditRows('live.open', u.username))[0]);
    stream.close();
    const closed = await waitFor(async () => (await auditRows('live.close', u.username))[0]);
    expect(closed.target).toBe(opened.target);
    expect(closed.detail).toMatchObject({ reason: 'client_closed' });
  });
});

describe('finding 8: the low findings', () => {
  const createUserVia = (username: string, password: string) =>
    hub.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: admin.headers,
      payload: { username, password, roles: ['operator'] },
    });

  it('refuses short and common passwords, and reserved usernames', async () => {
    const short = await createUserVia('weak-1', '12345678');
    expect(short.statusCode).toBe(400);
    const common = await createUserVia('weak-2', 'Password2026!');
    expect(common.statusCode).toBe(400);
    expect(common.json().error.code).toBe('password_too_common');
    const system = await createUserVia('system', 'a long and fine passphrase');
    expect(system.statusCode).toBe(400);
    expect(system.json().error.code).toBe('reserved_username');
    expect((await createUserVia('fine-user', 'a long and fine passphrase')).statusCode).toBe(201);
    const change = await hub.inject({
      method: 'PATCH',
      url: '/api/v1/users/fine-user',
      headers: admin.headers,
      payload: { password: 'qwerty123456' },
    });
    expect(change.json().error.code).toBe('password_too_common');
  });

  it('detects refresh-token reuse and ends the whole session', async () => {
    const u = await createUser(hub, ['operator']);
    const login = await hub.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: u.username, password: u.password },
    });
    const first = login.json() as { token: string; refreshToken: string };
    const refresh = (refreshToken: string) =>
      hub.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken } });
    const second = (await refresh(first.refreshToken)).json() as { token: string; refreshToken: string };
    // The old token again (a thief's copy, or the owner after the thief): the session ends for both.
    expect((await refresh(first.refreshToken)).statusCode).toBe(401);
    expect((await refresh(second.refreshToken)).statusCode).toBe(401);
    const me = await hub.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { authorization: `Bearer ${second.token}` },
    });
    expect(me.statusCode).toBe(401);
    expect(await auditRows('auth.refresh_reused', u.username)).toHaveLength(1);
  });

  it("hides rejected events' payloads from technicians, and keeps them for admins", async () => {
    await hub.pg.query(
      `INSERT INTO ingest_rejections (topic, reason, detail, received_at, payload, payload_bytes, truncated)
       VALUES ($1, 'invalid_payload', 'x', now(), '{"secret":"where-someone-was"}', 30, false)`,
      [`${env.config.MQTT_TOPIC_ROOT}/f8/cameras/cam-1/events`],
    );
    const technician = await createUser(hub, ['technician']);
    const asTech = await hub.inject({ method: 'GET', url: '/api/v1/ingest/rejections', headers: technician.headers });
    expect(asTech.statusCode).toBe(200);
    expect(asTech.body).not.toContain('where-someone-was');
    expect((asTech.json() as { items: { payloadHidden?: boolean }[] }).items[0]!.payloadHidden).toBe(true);
    const asAdmin = await hub.inject({ method: 'GET', url: '/api/v1/ingest/rejections', headers: admin.headers });
    expect(asAdmin.body).toContain('where-someone-was');
  });

  it('never returns the password inside a webhook URL', async () => {
    const created = await hub.inject({
      method: 'POST',
      url: '/api/v1/webhooks',
      headers: admin.headers,
      payload: {
        name: 'creds',
        url: 'https://bob:hunter2-secret@example.invalid/hook',
        secret: 'a-signing-secret-1234',
      },
    });
    expect(created.statusCode).toBe(201);
    expect(created.body).not.toContain('hunter2-secret');
    const list = await hub.inject({ method: 'GET', url: '/api/v1/webhooks', headers: admin.headers });
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain('hunter2-secret');
    expect(list.body).toContain('example.invalid/hook');
    // The generic targets API, which the console edits, redacts it too.
    const targets = await hub.inject({ method: 'GET', url: '/api/v1/notification-targets', headers: admin.headers });
    expect(targets.statusCode).toBe(200);
    expect(targets.body).not.toContain('hunter2-secret');
  });

  it('keeps the stored password when the redacted webhook URL comes back in a PATCH', async () => {
    const created = await hub.inject({
      method: 'POST',
      url: '/api/v1/webhooks',
      headers: admin.headers,
      payload: {
        name: 'creds-patch',
        url: 'https://bob:hunter3-secret@example.invalid/hook',
        secret: 'a-signing-secret-5678',
      },
    });
    expect(created.statusCode).toBe(201);
    const { id, url: shown } = created.json() as { id: string; url: string };
    expect(shown).toBe('https://bob:redacted@example.invalid/hook');
    // The URL the hub sends to: the stored one with its password opened from the sealed half (never in clear).
    const storedUrl = async () => {
      const { rows } = await hub.pg.query<{ config: Record<string, unknown>; secrets: string | null }>(
        'SELECT config, secrets FROM notification_targets WHERE id = $1',
        [id],
      );
      const password = rows[0]!.secrets ? box.open(rows[0]!.secrets, id)['url#password'] : undefined;
      const url = new URL(String(rows[0]!.config.url));
      expect(url.password).toBe('');
      if (password !== undefined) url.password = password;
      return url.toString();
    };

    // The console sends back what it was shown, with another field changed: the password stays.
    const renamed = await hub.inject({
      method: 'PATCH',
      url: `/api/v1/webhooks/${id}`,
      headers: admin.headers,
      payload: { name: 'creds-patch-2', url: shown },
    });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.body).not.toContain('hunter3-secret');
    expect(await storedUrl()).toBe('https://bob:hunter3-secret@example.invalid/hook');

    // Through the targets API the console uses, with a new path: still the stored password.
    const target = (
      await hub.inject({ method: 'GET', url: `/api/v1/notification-targets/${id}`, headers: admin.headers })
    ).json() as { config: { url: string } };
    expect(target.config.url).toBe(shown);
    const moved = await hub.inject({
      method: 'PATCH',
      url: `/api/v1/notification-targets/${id}`,
      headers: admin.headers,
      payload: { config: { url: 'https://bob:redacted@example.invalid/hook2' } },
    });
    expect(moved.statusCode).toBe(200);
    expect(await storedUrl()).toBe('https://bob:hunter3-secret@example.invalid/hook2');

    // The marker aimed at another host would hand it the stored password: refused, nothing changed.
    const elsewhere = await hub.inject({
      method: 'PATCH',
      url: `/api/v1/webhooks/${id}`,
      headers: admin.headers,
      payload: { url: 'https://bob:redacted@attacker.invalid/hook' },
    });
    expect(elsewhere.statusCode).toBe(400);
    expect(elsewhere.json().error.code).toBe('redacted_password_moved');
    expect(await storedUrl()).toBe('https://bob:hunter3-secret@example.invalid/hook2');

    // A new password typed in replaces it.
    await hub.inject({
      method: 'PATCH',
      url: `/api/v1/webhooks/${id}`,
      headers: admin.headers,
      payload: { url: 'https://bob:new-password-4@example.invalid/hook2' },
    });
    expect(await storedUrl()).toBe('https://bob:new-password-4@example.invalid/hook2');
  });

  it('writes snapshot and export files readable by the owner (and group) only', async () => {
    const img = jpeg('file-modes');
    await hub.container.snapshots.put(img.ref, img.bytes);
    const hex = img.ref.slice('sha256:'.length);
    const snapMode = (await stat(join(env.snapshotDir, hex.slice(0, 2), `${hex}.jpg`))).mode & 0o777;
    expect(snapMode & 0o007).toBe(0);
    const police = await createUser(hub, ['police']);
    await insertEvents(hub.pg, [makeEvent({ site: 'f8-export', camera: 'cam-1' })]);
    const res = await hub.inject({
      method: 'POST',
      url: '/api/v1/exports',
      headers: police.headers,
      payload: { site: 'f8-export', reason: 'file modes' },
    });
    expect(res.statusCode).toBe(200);
    const id = String(res.headers['x-camhub-export-id']);
    const exportMode = (await stat(join(env.config.EXPORT_DIR, `${id}.zip`))).mode & 0o777;
    expect(exportMode & 0o077).toBe(0);
  });

  it('lets retention remove an event dated in the future once it has been stored long enough', async () => {
    const future = makeEvent({ site: 'f8-future', camera: 'cam-1', at: '9999-12-31T00:00:00.000Z' });
    await insertEvents(hub.pg, [future]);
    await hub.pg.query(`UPDATE events SET stored_at = now() - interval '400 days' WHERE id = $1`, [future.id]);
    await hub.container.services.retention.run();
    const { rowCount } = await hub.pg.query('SELECT 1 FROM events WHERE id = $1', [future.id]);
    expect(rowCount).toBe(0);
  });
});
