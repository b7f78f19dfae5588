// Issue 19, finding 6: a site token could fill the disk (any bytes starting FFD8 stored; files no event refers to
// never deleted). Uploads are now recorded per site, held to a rate and a daily quota per site, and swept when no
// event has referred to them for MEDIA_SWEEP_AFTER_HOURS. Real hub, PostgreSQL and Redis.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent } from '../support/factories.js';
import { buildHub, createHubEnv, type TestHubEnv } from '../support/hub.js';
import { insertEvents, jpeg } from '../support/security.js';

const QUOTA_SITE = 'media-quota';
const RATE_SITE = 'media-rate';
const SWEEP_SITE = 'media-sweep';
const OTHER_SITE = 'media-other';
const PARALLEL_SITE = 'media-parallel';
const token = (site: string) => `${site}-token-0123456789`;

let env: TestHubEnv;
let hub: FastifyInstance;

beforeAll(async () => {
  env = await createHubEnv({
    AGENT_TOKENS: [QUOTA_SITE, RATE_SITE, SWEEP_SITE, OTHER_SITE, PARALLEL_SITE]
      .map((s) => `${s}=${token(s)}`)
      .join(','),
    MEDIA_SNAPSHOT_SITE_MB_PER_DAY: 3,
    MEDIA_SNAPSHOT_SITE_PER_MIN: 10,
    MEDIA_SWEEP_AFTER_HOURS: 6,
  });
  // No scheduled runs: the sweep is run by the test (runNow), not by a tick racing it.
  hub = await buildHub(env.config, { maintenance: false });
});

afterAll(async () => {
  await hub?.close();
  await env?.cleanup();
});

/** A random JPEG-looking body of `size` bytes (the attack: FFD8 then noise), with its reference. */
function noise(size: number) {
  const bytes = Buffer.concat([Buffer.from([0xff, 0xd8]), randomBytes(size - 2)]);
  return { bytes, ref: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}

const upload = (site: string, img: { ref: string; bytes: Buffer }) =>
  hub.inject({
    method: 'PUT',
    url: `/api/v1/media/${img.ref}`,
    headers: { authorization: `Bearer ${token(site)}`, 'content-type': 'image/jpeg' },
    payload: img.bytes,
  });

const fileOf = (ref: string) => {
  const hex = ref.slice('sha256:'.length);
  return join(env.snapshotDir, hex.slice(0, 2), `${hex}.jpg`);
};

const ledger = async (site: string) =>
  (
    await hub.pg.query<{ ref: string; kind: string; bytes: string }>(
      'SELECT ref, kind, bytes FROM media_uploads WHERE site = $1 ORDER BY uploaded_at',
      [site],
    )
  ).rows;

describe('finding 6: disk filling with a site token', () => {
  it('records each upload with its site, size and time, and refuses what goes over the site’s daily quota', async () => {
    const MB = 1_000_000;
    const results: number[] = [];
    const images = Array.from({ length: 5 }, () => noise(MB));
    for (const img of images) results.push((await upload(QUOTA_SITE, img)).statusCode);
    // 3 MiB a day: three of 1 MB fit, the fourth and fifth do not (the attack stored all twenty).
    expect(results).toEqual([201, 201, 201, 413, 413]);
    const refused = await upload(QUOTA_SITE, noise(MB));
    expect(refused.json().error.code).toBe('media_quota_exceeded');
    expect(existsSync(fileOf(images[3]!.ref))).toBe(false);
    const rows = await ledger(QUOTA_SITE);
    expect(rows.map((r) => r.ref)).toEqual(images.slice(0, 3).map((i) => i.ref));
    expect(rows.every((r) => r.kind === 'snapshot' && Number(r.bytes) === MB)).toBe(true);

    // A retry of bytes already stored is answered without counting again; a small one still fits.
    expect((await upload(QUOTA_SITE, images[0]!)).statusCode).toBe(200);
    expect((await upload(QUOTA_SITE, noise(64 * 1024))).statusCode).toBe(201);
    // The quota is the site's own: another site is not held back by it.
    expect((await upload(OTHER_SITE, noise(MB))).statusCode).toBe(201);

    // Uploads older than a day no longer count: the site may upload again.
    await hub.pg.query(`UPDATE media_uploads SET uploaded_at = now() - interval '25 hours' WHERE site = $1`, [
      QUOTA_SITE,
    ]);
    expect((await upload(QUOTA_SITE, noise(MB))).statusCode).toBe(201);
  });

  it('holds parallel uploads to the quota too', async () => {
    const site = PARALLEL_SITE;
    const codes = (await Promise.all(Array.from({ length: 8 }, () => upload(site, noise(1_000_000))))).map(
      (r) => r.statusCode,
    );
    expect(codes.filter((c) => c === 201)).toHaveLength(3);
    expect(codes.filter((c) => c === 413)).toHaveLength(5);
    const { rows } = await hub.pg.query<{ sum: string }>(
      'SELECT sum(bytes) AS sum FROM media_uploads WHERE site = $1',
      [site],
    );
    expect(Number(rows[0]!.sum)).toBeLessThanOrEqual(3 * 1024 * 1024);
  });

  it('limits the uploads per minute of a site with 429 media_rate_limited and Retry-After', async () => {
    const codes: number[] = [];
    let last: Awaited<ReturnType<typeof upload>> | null = null;
    for (let i = 0; i < 14; i++) {
      last = await upload(RATE_SITE, jpeg(`rate-${i}`));
      codes.push(last.statusCode);
    }
    expect(codes.slice(0, 10).every((c) => c === 201)).toBe(true);
    expect(codes.slice(10)).toEqual([429, 429, 429, 429]);
    expect(last!.json().error.code).toBe('media_rate_limited');
    expect(Number(last!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await ledger(RATE_SITE)).toHaveLength(10);
    // Another site has its own allowance.
    expect((await upload(OTHER_SITE, jpeg('rate-other'))).statusCode).toBe(201);
  });

  it('sweeps uploads no event has referred to after MEDIA_SWEEP_AFTER_HOURS, keeping referenced and recent ones', async () => {
    const orphan = jpeg('sweep-orphan');
    const used = jpeg('sweep-used');
    const recent = jpeg('sweep-recent');
    for (const img of [orphan, used, recent]) expect((await upload(SWEEP_SITE, img)).statusCode).toBe(201);
    await insertEvents(hub.pg, [makeEvent({ site: SWEEP_SITE, camera: 'cam-1', snapshot: used.ref })]);
    await hub.pg.query(
      `UPDATE media_uploads SET uploaded_at = now() - interval '7 hours' WHERE ref = ANY($1::text[])`,
      [[orphan.ref, used.ref]],
    );

    const result = (await hub.maintenance.runNow('media-sweep')) as { deleted: number; bytes: number };
    expect(result.deleted).toBeGreaterThanOrEqual(1);
    expect(existsSync(fileOf(orphan.ref))).toBe(false);
    expect(existsSync(fileOf(used.ref))).toBe(true);
    expect(existsSync(fileOf(recent.ref))).toBe(true);
    expect((await ledger(SWEEP_SITE)).map((r) => r.ref).sort()).toEqual([used.ref, recent.ref].sort());

    // Once the quota's day is over for it, a referenced upload leaves the ledger; its file stays with its event.
    await hub.pg.query(`UPDATE media_uploads SET uploaded_at = now() - interval '25 hours' WHERE ref = $1`, [used.ref]);
    const later = (await hub.maintenance.runNow('media-sweep')) as { forgotten: number };
    expect(later.forgotten).toBe(1);
    expect(existsSync(fileOf(used.ref))).toBe(true);
    expect((await ledger(SWEEP_SITE)).map((r) => r.ref)).toEqual([recent.ref]);
  });
});
