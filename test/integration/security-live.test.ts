// Issue 19, findings 2 and 3: live feeds (SSE) that outlived logout, and replay amplification. Two real hub
// processes share PostgreSQL and Redis: a change made on one must close streams held open on the other.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAccessToken } from '../../hub/src/auth/tokens.js';
import { createUser, type TestUser } from '../support/auth.js';
import { buildHub, hubUrl, type TestHubEnv } from '../support/hub.js';
import { useTestHub } from '../support/hub-fixture.js';
import { uniqueToken } from '../support/ids.js';
import { openSse } from '../support/sse.js';
import { waitFor } from '../support/wait.js';

let env: TestHubEnv;
let a: FastifyInstance;
let b: FastifyInstance;
let admin: TestUser;

const fixture = useTestHub(
  {
    LIVE_HEARTBEAT_SEC: 1,
    LIVE_MAX_STREAMS_PER_SESSION: 2,
    LIVE_MAX_STREAMS_PER_USER: 3,
    LIVE_CONNECTS_PER_MIN: 8,
  },
  { listen: true },
);
beforeAll(async () => {
  ({ env, hub: a } = fixture);
  // The second hub takes no MQTT: it only serves HTTP, as a scaled-out hub behind a load balancer would.
  b = await buildHub(
    { ...env.config, MQTT_CLIENT_ID: `camhub-test-${uniqueToken()}` },
    { listen: true, ingest: { subscribe: false, work: false } },
  );
  admin = await createUser(a, ['admin']);
});

afterAll(async () => {
  await b?.close();
});

const live = (hub: FastifyInstance, headers: Record<string, string>, query = '') =>
  openSse(`${hubUrl(hub)}/api/v1/live${query}`, headers);
/** Ended within `ms`: well before the next heartbeat would have noticed, so it was the published change. */
const endsWithin = (stream: { ended: Promise<void> }, ms: number) =>
  Promise.race([
    stream.ended.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms)),
  ]);

describe('finding 2: live streams end with the session', () => {
  it('ends a stream on another hub at once when its session logs out', async () => {
    const u = await createUser(a, ['operator']);
    const stream = await live(b, u.headers);
    expect(stream.status()).toBe(200);
    const out = await a.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: u.headers });
    expect(out.statusCode).toBe(204);
    expect(await endsWithin(stream, 5_000)).toBe(true);
    expect(stream.messages.some((m) => m.event === 'end')).toBe(true);
  });

  it('ends streams when the user is disabled, or their roles or sites change', async () => {
    for (const patch of [{ disabled: true }, { roles: ['technician'] }, { sites: ['elsewhere'] }]) {
      const u = await createUser(a, ['operator']);
      const stream = await live(b, u.headers);
      expect(stream.status()).toBe(200);
      const res = await a.inject({
        method: 'PATCH',
        url: `/api/v1/users/${u.username}`,
        headers: admin.headers,
        payload: patch,
      });
      expect(res.statusCode).toBe(200);
      expect(await endsWithin(stream, 5_000), JSON.stringify(patch)).toBe(true);
    }
  });

  it('re-checks the session on every heartbeat (a change nobody published) and ends at the token expiry', async () => {
    const u = await createUser(a, ['operator']);
    const stream = await live(a, u.headers);
    expect(stream.status()).toBe(200);
    // Revoked behind the hub's back, as a database-side change would be: only the heartbeat can notice.
    await a.pg.query(
      `UPDATE sessions SET revoked_at = now() WHERE user_id = (SELECT id FROM users WHERE username = $1)`,
      [u.username],
    );
    expect(await endsWithin(stream, 8_000)).toBe(true);

    const v = await createUser(a, ['operator']);
    const [, body] = v.token.split('.');
    const claims = JSON.parse(Buffer.from(body!, 'base64url').toString()) as { sub: string; sid: string; iat: number };
    const short = signAccessToken({ ...claims, exp: Math.floor(Date.now() / 1000) + 3 }, a.container.keys.tokenKey);
    const started = Date.now();
    const expiring = await live(a, { authorization: `Bearer ${short}` });
    expect(expiring.status()).toBe(200);
    expect(await endsWithin(expiring, 10_000)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    expect(expiring.messages.find((m) => m.event === 'end')?.data).toMatchObject({ reason: 'token_expired' });
  });
});

describe('finding 3: replay amplification', () => {
  it('caps streams per session and per user, across hubs', async () => {
    const u = await createUser(a, ['operator']);
    const s1 = await live(a, u.headers);
    const s2 = await live(b, u.headers);
    const s3 = await live(a, u.headers);
    expect([s1.status(), s2.status(), s3.status()]).toEqual([200, 200, 429]);
    expect(JSON.parse(s3.text()).error.code).toBe('too_many_streams');
    // Another session of the same user gets one more, up to the user's cap.
    const other = await a.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: u.username, password: u.password },
    });
    const second = { authorization: `Bearer ${(other.json() as { token: string }).token}` };
    const s4 = await live(b, second);
    const s5 = await live(b, second);
    expect([s4.status(), s5.status()]).toEqual([200, 429]);
    // A closed stream frees its place.
    s1.close();
    await waitFor(
      async () => {
        const s = await live(a, u.headers);
        if (s.status() !== 200) return false;
        s.close();
        return true;
      },
      { what: 'a place freed by the closed stream' },
    );
    for (const s of [s2, s3, s4, s5]) s.close();
  });

  it('rate-limits reconnects', async () => {
    const u = await createUser(a, ['operator']);
    const statuses: number[] = [];
    for (let i = 0; i < env.config.LIVE_CONNECTS_PER_MIN + 2; i++) {
      const s = await live(a, u.headers);
      statuses.push(s.status());
      s.close();
      // The hub has let go of it (its place under the stream caps is free again) before the next reconnect.
      await waitFor(() => a.live.clientCount === 0, { what: 'stream closed on the hub' });
    }
    expect(statuses.slice(0, env.config.LIVE_CONNECTS_PER_MIN).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(env.config.LIVE_CONNECTS_PER_MIN)).toEqual([429, 429]);
  });

  it('replays only the sites and kinds a user may see, in order, across pages, without what they may not', async () => {
    const ours = `rp-${uniqueToken()}`;
    await a.live.publish([{ kind: 'camera', site: 'before', data: { marker: true } }]);
    const tail = (await a.redis.xrevrange(`${env.config.QUEUE_PREFIX}:live`, '+', '-', 'COUNT', 1)) as [
      string,
      string[],
    ][];
    const from = tail[0]![0];
    // 3,000 entries of another site around 1,200 of ours: more than one page of either.
    const items: { kind: 'event' | 'camera'; site: string; data: unknown }[] = [];
    for (let i = 0; i < 4200; i++) {
      const mine = i % 7 < 2;
      items.push({ kind: i % 2 ? 'event' : 'camera', site: mine ? ours : 'other-site', data: { i } });
    }
    for (let i = 0; i < items.length; i += 500) await a.live.publish(items.slice(i, i + 500));
    const u = await createUser(a, ['technician'], { sites: [ours] });
    const stream = await live(b, { ...u.headers, 'last-event-id': from });
    const expected = items
      .filter((x) => x.site === ours && x.kind === 'camera')
      .map((x) => (x.data as { i: number }).i);
    await waitFor(() => stream.messages.filter((m) => m.event === 'camera').length >= expected.length, {
      timeoutMs: 20_000,
      what: 'replay',
    });
    const got = stream.messages.filter((m) => m.event === 'camera').map((m) => (m.data as { i: number }).i);
    expect(got).toEqual(expected);
    expect(stream.messages.some((m) => m.event === 'event')).toBe(false);
    stream.close();
  });
});
