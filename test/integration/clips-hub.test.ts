import { execFile } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTopics, type EventItem } from '@camhub/shared';
import type { FastifyInstance } from 'fastify';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyExport } from '../../hub/src/exports/verify-export.js';
import { createRetentionService } from '../../hub/src/retention/retention.service.js';
import { createUser, type TestUser } from '../support/auth.js';
import { onPath, requireDependency } from '../support/dependencies.js';
import { makeEvent, makeEventClip } from '../support/factories.js';
import { type TestHubEnv } from '../support/hub.js';
import { useTestHub } from '../support/hub-fixture.js';
import { uniqueToken } from '../support/ids.js';
import { connectPublisher, publishJson } from '../support/mqtt.js';
import { waitFor } from '../support/wait.js';

// Clips at the hub: the link through MQTT and ingest (real Mosquitto, Redis, PostgreSQL), the file through the
// agent's upload route, playback with Range, audit, quota and retention. The MP4s are made by real ffmpeg.
const run = promisify(execFile);
const SITE = `ch-${uniqueToken().slice(0, 8)}`;
const OTHER = `ch-${uniqueToken().slice(0, 8)}`;
const AGENT_TOKEN = `agent-${uniqueToken()}`;
const CAMERA = 'cam-1';
const DAY = 86_400_000;

let env: TestHubEnv;
let hub: FastifyInstance;
let pub: MqttClient;
let operator: TestUser;
const ffmpeg = onPath('ffmpeg');

/** A real H.264 MP4 of `seconds`, faststart, made by ffmpeg from a test pattern; `seed` makes the bytes differ. */
async function makeMp4(seconds: number, seed: number): Promise<Buffer> {
  const file = join(env.dataDir, `clip-${uniqueToken()}.mp4`);
  await run(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      `testsrc=size=320x180:rate=10:duration=${seconds}`,
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      '-movflags',
      '+faststart',
      // Same picture, other bytes: each clip its own reference.
      '-metadata',
      `comment=${seed}`,
      file,
    ],
    { timeout: 30_000 },
  );
  return readFileSync(file);
}
const refOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function upload(ref: string, body: Buffer, token = AGENT_TOKEN) {
  return hub.inject({
    method: 'PUT',
    url: `/api/v1/clips/${ref}`,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'video/mp4' },
    payload: body,
  });
}

async function storedEvent(id: string, user: TestUser = operator): Promise<EventItem> {
  return waitFor(
    async () => {
      const res = await hub.inject({ method: 'GET', url: `/api/v1/events/${id}`, headers: user.headers });
      return res.statusCode === 200 ? (res.json() as EventItem) : null;
    },
    { timeoutMs: 10_000, what: `event ${id}` },
  );
}

/** An event and its clip link through MQTT, as an agent sends them (the link after the event). */
async function eventWithClip(clip: Buffer, at = new Date(), site = SITE) {
  const topics = createTopics(env.config.MQTT_TOPIC_ROOT);
  const event = makeEvent({ site, camera: CAMERA, at: at.toISOString() });
  await publishJson(pub, topics.events(site, CAMERA), event);
  const link = makeEventClip({
    site,
    camera: CAMERA,
    event: event.id,
    clip: refOf(clip),
    startAt: new Date(at.getTime() - 5000).toISOString(),
    durationMs: 15_000,
    bytes: clip.length,
    at: new Date(at.getTime() + 10_000).toISOString(),
  });
  await publishJson(pub, topics.clips(site, CAMERA), link);
  return { event, link };
}

const fixture = useTestHub({
  AGENT_TOKENS: `${SITE}=${AGENT_TOKEN}`,
  CLIP_SITE_QUOTA_BYTES: 400_000,
});
beforeAll(async () => {
  ({ env, hub } = fixture);
  pub = await connectPublisher();
  operator = await createUser(hub, ['operator']);
}, 60_000);

afterAll(async () => {
  await pub?.endAsync();
});

describe('event clips at the hub', () => {
  let clip: Buffer;
  let eventId: string;

  it('attaches the clip link to the stored event, and keeps the first link of an event', async (ctx) => {
    requireDependency(ctx, ffmpeg, 'ffmpeg', 'apt-get install ffmpeg');
    clip = await makeMp4(3, 1);
    const { event, link } = await eventWithClip(clip);
    eventId = event.id;
    const stored = await waitFor(async () => (await storedEvent(event.id)).clip, { what: 'clip on the event' });
    expect(stored).toEqual({
      ref: link.clip,
      startAt: link.startAt,
      durationMs: 15_000,
      bytes: clip.length,
      available: false,
    });
    // Sent again (an agent resending after a lost PUBACK) with other values: the first link stays.
    await publishJson(pub, createTopics(env.config.MQTT_TOPIC_ROOT).clips(SITE, CAMERA), {
      ...link,
      clip: `sha256:${'e'.repeat(64)}`,
    });
    await hub.ingest.drain();
    await new Promise((r) => setTimeout(r, 500));
    expect((await storedEvent(event.id)).clip?.ref).toBe(link.clip);
  });

  it('takes the upload from the site agent only, checks its digest and type, and is idempotent', async (ctx) => {
    requireDependency(ctx, ffmpeg, 'ffmpeg', 'apt-get install ffmpeg');
    const ref = refOf(clip);
    expect((await upload(ref, clip, operator.token)).statusCode).toBe(401);
    expect((await upload(refOf(Buffer.from('x')), clip)).json()).toMatchObject({ error: { code: 'digest_mismatch' } });
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await upload(refOf(jpeg), jpeg)).json()).toMatchObject({ error: { code: 'not_mp4' } });
    expect((await upload(ref, clip)).statusCode).toBe(201);
    expect((await upload(ref, clip)).statusCode).toBe(200);
    expect((await storedEvent(eventId)).clip?.available).toBe(true);
  });

  it("serves the clip whole and by range, never cached, and audits each session's view once", async (ctx) => {
    requireDependency(ctx, ffmpeg, 'ffmpeg', 'apt-get install ffmpeg');
    const url = `/api/v1/events/${eventId}/clip`;
    const whole = await hub.inject({ method: 'GET', url, headers: operator.headers });
    expect(whole.statusCode).toBe(200);
    expect(whole.headers).toMatchObject({
      'content-type': 'video/mp4',
      'cache-control': 'no-store',
      'accept-ranges': 'bytes',
    });
    expect(whole.rawPayload.equals(clip)).toBe(true);

    const part = await hub.inject({ method: 'GET', url, headers: { ...operator.headers, range: 'bytes=100-199' } });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 100-199/${clip.length}`);
    expect(part.rawPayload.equals(clip.subarray(100, 200))).toBe(true);

    const beyond = await hub.inject({ method: 'GET', url, headers: { ...operator.headers, range: 'bytes=99999999-' } });
    expect(beyond.statusCode).toBe(416);
    expect(beyond.headers['content-range']).toBe(`bytes */${clip.length}`);

    // One view per session and window (CLIP_VIEW_AUDIT_WINDOW_SEC, 600 s): the player's range requests after the
    // first are the same view, not one row per seek; another session (here another operator) is a view of its own.
    const other = await createUser(hub, ['operator']);
    const seek = await hub.inject({ method: 'GET', url, headers: { ...other.headers, range: 'bytes=100-' } });
    expect(seek.statusCode).toBe(206);
    const views = async (username: string) =>
      (
        await hub.pg.query<{ detail: Record<string, unknown> }>(
          `SELECT detail FROM audit_log WHERE action = 'clip.view' AND target = $1 AND actor = $2 ORDER BY seq`,
          [eventId, username],
        )
      ).rows.map((r) => r.detail);
    expect(await views(operator.username)).toEqual([{ site: SITE, camera: CAMERA, clip: refOf(clip) }]);
    expect(await views(other.username)).toEqual([
      { site: SITE, camera: CAMERA, clip: refOf(clip), range: `100-${clip.length - 1}` },
    ]);
  });

  it('refuses technicians and users of other sites', async (ctx) => {
    requireDependency(ctx, ffmpeg, 'ffmpeg', 'apt-get install ffmpeg');
    const technician = await createUser(hub, ['technician']);
    const elsewhere = await createUser(hub, ['operator'], { sites: [OTHER] });
    const url = `/api/v1/events/${eventId}/clip`;
    expect((await hub.inject({ method: 'GET', url, headers: technician.headers })).statusCode).toBe(403);
    expect((await hub.inject({ method: 'GET', url, headers: elsewhere.headers })).statusCode).toBe(404);
    const list = `/api/v1/cameras/${SITE}/${CAMERA}/clips`;
    expect((await hub.inject({ method: 'GET', url: list, headers: elsewhere.headers })).statusCode).toBe(404);
  });

  it("lists a camera's clips of the last 24 h for its timeline", async (ctx) => {
    requireDependency(ctx, ffmpeg, 'ffmpeg', 'apt-get install ffmpeg');
    const res = await hub.inject({
      method: 'GET',
      url: `/api/v1/cameras/${SITE}/${CAMERA}/clips`,
      headers: operator.headers,
    });
    expect(res.statusCode).toBe(200);
    const items = (res.json() as { items: Array<Record<string, unknown>> }).items;
    expect(items).toEqual([
      expect.objectContaining({
        event: eventId,
        type: 'motion',
        ref: refOf(clip),
        durationMs: 15_000,
        available: true,
      }),
    ]);
  });

  it("refuses uploads past the site's quota", async (ctx) => {
    requireDependency(ctx, ffmpeg, 'ffmpeg', 'apt-get install ffmpeg');
    let refused = null;
    for (let seed = 2; seed < 40 && !refused; seed++) {
      const more = await makeMp4(3, seed);
      const res = await upload(refOf(more), more);
      if (res.statusCode === 507) refused = res.json() as { error: { code: string } };
      else expect(res.statusCode).toBe(201);
    }
    expect(refused).toMatchObject({ error: { code: 'clip_quota_exceeded' } });
    const used = await hub.container.repositories.clips.siteBytes(SITE);
    expect(used).toBeLessThanOrEqual(400_000);
  }, 120_000);

  it('deletes clips past RETENTION_CLIPS_DAYS unless an export or an open alert holds their event', async (ctx) => {
    requireDependency(ctx, ffmpeg, 'ffmpeg', 'apt-get install ffmpeg');
    // Room for two more: the quota test filled the site.
    await hub.pg.query(`DELETE FROM clip_files WHERE site = $1 AND ref <> $2`, [SITE, refOf(clip)]);
    const heldClip = await makeMp4(2, 101);
    const held = await eventWithClip(heldClip, new Date(Date.now() - 60_000));
    await storedEvent(held.event.id);
    expect((await upload(refOf(heldClip), heldClip)).statusCode).toBe(201);
    await waitFor(async () => (await storedEvent(held.event.id)).clip?.available, { what: 'held clip available' });
    // The police export the held event: its clip goes into the archive, its SHA-256 in the signed manifest, and the
    // export's hold keeps it from retention.
    const police = await createUser(hub, ['police']);
    const at = Date.parse(held.event.at);
    const res = await hub.inject({
      method: 'POST',
      url: '/api/v1/exports',
      headers: police.headers,
      payload: {
        site: SITE,
        from: new Date(at - 1000).toISOString(),
        to: new Date(at + 1000).toISOString(),
        reason: 'clip case',
      },
    });
    expect(res.statusCode).toBe(200);
    const zipPath = join(env.dataDir, 'clip-export.zip');
    writeFileSync(zipPath, res.rawPayload);
    const v = await verifyExport(zipPath, createPublicKey(readFileSync(env.config.HUB_KEY_FILE, 'utf8')));
    expect(v.problems).toEqual([]);
    expect(v.manifest!.counts).toMatchObject({ events: 1, clips: 1 });
    const hex = refOf(heldClip).slice('sha256:'.length);
    expect(v.manifest!.files).toContainEqual({ path: `clips/${hex}.mp4`, sha256: hex, bytes: heldClip.length });

    const c = hub.container;
    const retention = createRetentionService({
      repo: c.repositories.retention,
      auditRepo: c.repositories.audit,
      authRepo: c.repositories.auth,
      healthRepo: c.repositories.status,
      audit: c.services.audit,
      snapshots: c.snapshots,
      clips: { repo: c.repositories.clips, store: c.clipStore },
      settings: {
        eventsDays: 100_000,
        snapshotsDays: 100_000,
        clipsDays: env.config.RETENTION_CLIPS_DAYS,
        auditDays: 100_000,
        attemptsKeepSec: 100_000,
        rejectionsDays: 100_000,
        batch: 10,
        healthDays: 100_000,
        healthBatch: 10,
      },
      now: () => new Date(Date.now() + (env.config.RETENTION_CLIPS_DAYS + 1) * DAY),
    });
    const result = await retention.run();
    expect(result.clips).toBeGreaterThanOrEqual(1);
    // Sessions expired too at that clock: a fresh login to look.
    const viewer = await createUser(hub, ['operator']);
    // The first clip went (file and row); the event keeps saying it had one.
    expect(existsSync(c.clipStore.path(refOf(clip)))).toBe(false);
    const after = await hub.inject({ method: 'GET', url: `/api/v1/events/${eventId}`, headers: viewer.headers });
    expect(after.statusCode, after.body).toBe(200);
    expect((after.json() as EventItem).clip).toMatchObject({ ref: refOf(clip), available: false });
    const gone = await hub.inject({ method: 'GET', url: `/api/v1/events/${eventId}/clip`, headers: viewer.headers });
    expect(gone.json()).toMatchObject({ error: { code: 'clip_pending' } });
    // The held one stays.
    expect(existsSync(c.clipStore.path(refOf(heldClip)))).toBe(true);
    expect((await storedEvent(held.event.id, viewer)).clip?.available).toBe(true);
  });
});
