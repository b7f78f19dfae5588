// Issue 19, finding 4, across hubs: refused logins are audited as one entry for the first refusal of an IP in a
// window and one summary of the rest, however many hubs behind a load balancer refused them. Two real hubs sharing
// PostgreSQL and Redis; the summary is written by the maintenance job, as in production.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHub, type TestHubEnv } from '../support/hub.js';
import { useTestHub } from '../support/hub-fixture.js';
import { uniqueToken } from '../support/ids.js';
import { sleep } from '../support/wait.js';

const WINDOW_SEC = 15;
let env: TestHubEnv;
let a: FastifyInstance;
let b: FastifyInstance;

// Past 3 failures an IP is refused before any password check (429): a burst that fits in one window.
// No scheduled ticks: the test runs the job itself, on both hubs at once, when the window has ended.
const fixture = useTestHub({ AUTH_AUDIT_WINDOW_SEC: WINDOW_SEC, AUTH_IP_MAX_FAILURES: 3 }, { maintenance: false });
beforeAll(async () => {
  ({ env, hub: a } = fixture);
  b = await buildHub(
    { ...env.config, MQTT_CLIENT_ID: `camhub-test-${uniqueToken()}` },
    { maintenance: false, ingest: { subscribe: false, work: false } },
  );
});

afterAll(async () => {
  await b?.close();
});

const refuse = (hub: FastifyInstance, ip: string, username: string) =>
  hub.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    remoteAddress: ip,
    payload: { username, password: 'not-the-password-x' },
  });

const auditOf = async (ip: string) =>
  (
    await a.pg.query<{ action: string; actor: string | null; detail: Record<string, unknown> }>(
      'SELECT action, actor, detail FROM audit_log WHERE ip = $1 ORDER BY seq',
      [ip],
    )
  ).rows;

/** Waits for the start of a fresh window, so that a burst falls in one window. */
async function windowStart() {
  const ms = WINDOW_SEC * 1000;
  await sleep(ms - (Date.now() % ms) + 20);
}

describe('finding 4 across hubs: one audit entry and one summary per IP and window', () => {
  it('records the first refusal once and sums the rest into one summary, whichever hub refused them', async () => {
    const ip = '10.19.44.1';
    const other = '2001:db8::44';
    const slot = () => Math.floor(Date.now() / (WINDOW_SEC * 1000));
    await windowStart();
    const first = slot();
    for (let i = 0; i < 24; i++) {
      expect([401, 429]).toContain((await refuse(i % 2 ? b : a, ip, `spray-${i}`)).statusCode);
    }
    await refuse(b, other, 'v6-user');
    await refuse(a, other, 'v6-user');
    const last = slot();
    // On a loaded machine the burst may run into the next window: each window then has its own pair of entries.
    const windows = last - first + 1;
    const immediate = await auditOf(ip);
    expect(immediate.map((r) => r.action)).toEqual(Array(windows).fill('auth.login_failed'));
    expect(immediate[0]).toMatchObject({ actor: 'spray-0', detail: { reason: 'unknown_user' } });

    // While the window runs, the job writes nothing for it.
    await Promise.all([a.maintenance.runNow('refused-logins'), b.maintenance.runNow('refused-logins')]);
    expect((await auditOf(ip)).filter((r) => r.action === 'auth.login_refused')).toHaveLength(windows - 1);

    await windowStart();
    // Both hubs run the job at once (as two workers might): each summary is written once.
    await Promise.all([a.maintenance.runNow('refused-logins'), b.maintenance.runNow('refused-logins')]);
    const rows = await auditOf(ip);
    const summaries = rows.filter((r) => r.action === 'auth.login_refused');
    expect(rows.filter((r) => r.action === 'auth.login_failed')).toHaveLength(windows);
    expect(summaries.length).toBeGreaterThanOrEqual(1);
    expect(summaries.length).toBeLessThanOrEqual(windows);
    // Every refusal is accounted for exactly once: one entry each for the firsts, the rest in the summaries.
    const summed = summaries.reduce((n, r) => n + (r.detail.count as number), 0);
    expect(windows + summed).toBe(24);
    for (const r of summaries) {
      expect(r.actor).toBeNull();
      const reasons = Object.values(r.detail.reasons as Record<string, number>).reduce((x, y) => x + y, 0);
      expect(reasons).toBe(r.detail.count);
      expect(Date.parse(r.detail.from as string)).toBeLessThanOrEqual(Date.parse(r.detail.to as string));
    }
    // Usernames tried are kept up to 20 per summary, not one per guess.
    if (windows === 1) expect(summaries[0]!.detail.usernames as string[]).toHaveLength(20);

    // An IPv6 address (colons in the key) gets its own entries.
    const v6 = await auditOf(other);
    expect(v6[0]).toMatchObject({ action: 'auth.login_failed', actor: 'v6-user' });
    expect(v6.length).toBeLessThanOrEqual(2);
    expect(v6.reduce((n, r) => n + ((r.detail.count as number | undefined) ?? 1), 0)).toBe(2);

    // A new window starts with a fresh immediate entry.
    await refuse(a, ip, 'again');
    expect((await auditOf(ip)).at(-1)).toMatchObject({ action: 'auth.login_failed', actor: 'again' });
  });
});
