// Issue 19, finding 6: a site token could fill the disk (any bytes starting FFD8 stored; files no event refers to
// never deleted). Uploads are now recorded per site, held to a rate and a daily quota per site, and swept when no
// event has referred to them for MEDIA_SWEEP_AFTER_HOURS. Event clips (issue 14) are held to a rate and a daily quota
// of their own through the same ledger, beside their stored total (CLIP_SITE_QUOTA_BYTES). Real hub, PostgreSQL and
// Redis.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeEvent } from '../support/factories.js';
import type { TestHubEnv } from '../support/hub.js';
import { useTestHub } from '../support/hub-fixture.js';
import { insertEvents, jpeg } from '../support/security.js';

const QUOTA_SITE = 'media-quota';
const RATE_SITE = 'media-rate';
const SWEEP_SITE = 'media-sweep';
const OTHER_SITE = 'media-other';
const PARALLEL_SITE = 'media-parallel';
const CLIP_SITE = 'media-clip';
const CLIP_RATE_SITE = 'media-clip-rate';
const token = (site: string) => `${site}-token-0123456789`;

let env: TestHubEnv;
let hub: FastifyInstance;

// No scheduled runs: the sweep is run by the test (runNow), not by a tick racing it.
const fixture = useTestHub(
  {
    AGENT_TOKENS: [QUOTA_SITE, RATE_SITE, SWEEP_SITE, OTHER_SITE, PARALLEL_SITE, CLIP_SITE, CLIP_RATE_SITE]
      .map((s) => `${s}=${token(s)}`)
      .join(','),
    MEDIA_SNAPSHOT_SITE_MB_PER_DAY: 3,
    MEDIA_SNAPSHOT_SITE_PER_MIN: 10,
    MEDIA_CLIP_SITE_MB_PER_DAY: 3,
    MEDIA_CLIP_SITE_PER_MIN: 12,
    MEDIA_SWEEP_AFTER_HOURS: 6,
  },
  { maintenance: false },
);
beforeAll(() => {
  ({ env, hub } = fixture);
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

/** A random body the clip store takes for an MP4 (an `ftyp` box, then noise), with its reference. */
function noiseMp4(size: number) {
  const head = Buffer.from([0, 0, 0, 16, ...Buffer.from('ftypisom'), 0, 0, 2, 0]);
  const bytes = Buffer.concat([head, randomBytes(size - head.length)]);
  return { bytes, ref: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}

const uploadClip = (site: string, clip: { ref: string; bytes: Buffer }) =>
  hub.inject({
    method: 'PUT',
    url: `/api/v1/clips/${clip.ref}`,
    headers: { authorization: `Bearer ${token(site)}`, 'content-type': 'video/mp4' },
    payload: clip.bytes,
  });

const clipFileOf = (ref: string) => {
  const hex = ref.slice('sha256:'.length);
  return join(env.config.CLIP_DIR, hex.slice(0, 2), `${hex}.mp4`);
};

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

  it('holds clips to their own daily quota and rate in the same ledger, never sweeping them (clip retention does)', async () => {
    const MB = 1_000_000;
    const clips = Array.from({ length: 5 }, () => noiseMp4(MB));
    const codes: number[] = [];
    for (const c of clips) codes.push((await uploadClip(CLIP_SITE, c)).statusCode);
    // 3 MiB of clips a day: three of 1 MB fit (the stored total, 10 GiB by default, is far away).
    expect(codes).toEqual([201, 201, 201, 413, 413]);
    const refused = await uploadClip(CLIP_SITE, noiseMp4(MB));
    expect(refused.json().error.code).toBe('media_quota_exceeded');
    expect(existsSync(clipFileOf(clips[3]!.ref))).toBe(false);
    const rows = await ledger(CLIP_SITE);
    expect(rows.map((r) => r.ref)).toEqual(clips.slice(0, 3).map((c) => c.ref));
    expect(rows.every((r) => r.kind === 'clip' && Number(r.bytes) === MB)).toBe(true);
    // A retry of a stored clip is answered without counting; the site's snapshots have their own quota.
    expect((await uploadClip(CLIP_SITE, clips[0]!)).statusCode).toBe(200);
    expect((await upload(CLIP_SITE, noise(MB))).statusCode).toBe(201);
    // A refused body never reaches the ledger.
    const bad = noiseMp4(1000);
    bad.bytes.write('moov', 4, 'latin1');
    const notMp4 = await uploadClip(CLIP_SITE, {
      bytes: bad.bytes,
      ref: `sha256:${createHash('sha256').update(bad.bytes).digest('hex')}`,
    });
    expect(notMp4.json().error.code).toBe('not_mp4');
    expect(await ledger(CLIP_SITE)).toHaveLength(4);

    // The sweep never deletes a clip nobody links yet (its link may come later; clip retention decides), and forgets
    // the ledger rows once the quota's day is over for them, which gives the site its room back.
    await hub.pg.query(`UPDATE media_uploads SET uploaded_at = now() - interval '25 hours' WHERE site = $1`, [
      CLIP_SITE,
    ]);
    const swept = (await hub.maintenance.runNow('media-sweep')) as { forgotten: number };
    expect(swept.forgotten).toBeGreaterThanOrEqual(3);
    for (const c of clips.slice(0, 3)) expect(existsSync(clipFileOf(c.ref))).toBe(true);
    expect((await ledger(CLIP_SITE)).filter((r) => r.kind === 'clip')).toEqual([]);
    expect((await uploadClip(CLIP_SITE, clips[3]!)).statusCode).toBe(201);

    // 12 clip uploads a minute per site (the site above made 9); another site has its own allowance.
    const rate: number[] = [];
    let last: Awaited<ReturnType<typeof uploadClip>> | null = null;
    for (let i = 0; i < 14; i++) {
      last = await uploadClip(CLIP_RATE_SITE, noiseMp4(2000));
      rate.push(last.statusCode);
    }
    expect(rate).toEqual([...Array<number>(12).fill(201), 429, 429]);
    expect(last!.json().error.code).toBe('media_rate_limited');
    expect(Number(last!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await uploadClip(OTHER_SITE, noiseMp4(2000))).statusCode).toBe(201);
  });
});
