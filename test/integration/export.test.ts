import { spawn } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CameraEvent, EventItem } from '@camhub/shared';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyExport } from '../../hub/src/exports/verify-export.js';
import { openZipEntry, readZipEntries, readZipEntry } from '../../hub/src/exports/zip-reader.js';
import { createUser, type TestUser } from '../support/auth.js';
import { runHubCli } from '../support/cli.js';
import { makeEvent } from '../support/factories.js';
import { hubUrl, type TestHubEnv } from '../support/hub.js';
import { useTestHub } from '../support/hub-fixture.js';
import { insertEvents, jpeg } from '../support/security.js';

let env: TestHubEnv;
let hub: FastifyInstance;
let police: TestUser;

const WEEK_START = Date.parse('2026-11-02T00:00:00.000Z');
const WEEK_END = WEEK_START + 7 * 86_400_000;
const PER_DAY = 288; // one event every 5 minutes
let week: CameraEvent[];

const fixture = useTestHub({}, { listen: true });
beforeAll(async () => {
  ({ env, hub } = fixture);
  police = await createUser(hub, ['police']);
  week = [];
  for (let i = 0; i < 7 * PER_DAY; i++) {
    const at = new Date(WEEK_START + i * 300_000).toISOString();
    // Every 100th event's snapshot was never uploaded: the manifest must say so.
    const pic = jpeg(`week-${i}`);
    if (i % 100 !== 0) await hub.container.snapshots.put(pic.ref, pic.bytes);
    week.push(makeEvent({ site: 'exp', camera: 'cam-7', seq: i, at, snapshot: pic.ref, data: { zone: `z,${i % 3}` } }));
  }
  const noise = [
    makeEvent({ site: 'exp', camera: 'cam-8', at: new Date(WEEK_START + 3600_000).toISOString() }),
    makeEvent({ site: 'other', camera: 'cam-7', at: new Date(WEEK_START + 3600_000).toISOString() }),
    makeEvent({ site: 'exp', camera: 'cam-7', at: new Date(WEEK_END + 1000).toISOString() }),
  ];
  await insertEvents(hub.pg, [...week, ...noise]);
}, 120_000);

const filters = {
  site: 'exp',
  camera: 'cam-7',
  from: new Date(WEEK_START).toISOString(),
  to: new Date(WEEK_END).toISOString(),
  reason: 'case 2026-118',
};

async function exportTo(file: string, user: TestUser, body: unknown = filters) {
  const res = await fetch(`${hubUrl(hub)}/api/v1/exports`, {
    method: 'POST',
    headers: { ...user.headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status === 200) await pipeline(Readable.fromWeb(res.body as never), createWriteStream(file));
  else await res.body?.cancel();
  return res;
}

/** A stock command-line tool, as police would run it; its exit code and everything it printed. */
function tool(cmd: string, args: string[], cwd?: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('error', (err) => reject(new Error(`${cmd}: ${err.message} (scripts/ensure-env.sh installs it)`)));
    p.on('close', (code) => resolve({ code, out }));
  });
}

describe('evidence export', () => {
  let zipPath: string;
  let exportId: string;

  it("exports a week of one camera's events with snapshots, and the archive verifies", async () => {
    zipPath = join(env.dataDir, 'week.zip');
    const started = Date.now();
    const res = await exportTo(zipPath, police);
    const ms = Date.now() - started;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    exportId = res.headers.get('x-camhub-export-id')!;
    const bytes = await readFile(zipPath);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(res.headers.get('x-camhub-export-sha256'));
    console.log(`export of ${week.length} events: ${ms} ms, ${bytes.length} bytes`);

    const hubKey = createPublicKey((await readFile(env.config.HUB_KEY_FILE, 'utf8')) as string);
    const v = await verifyExport(zipPath, hubKey);
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);
    const m = v.manifest!;
    const missing = week.filter((_, i) => i % 100 === 0).length;
    expect(m).toMatchObject({
      exportId,
      exportedBy: { username: police.username, roles: ['police'] },
      filters: { site: 'exp', camera: 'cam-7', from: filters.from, to: filters.to },
      reason: 'case 2026-118',
      counts: { events: week.length, snapshots: week.length - missing, snapshotsMissing: missing },
    });
    expect(m.missingSnapshots.every((s) => s.reason === 'not_uploaded')).toBe(true);
    expect(v.filesChecked).toBe(2 + week.length - missing);

    // The events, exactly, oldest first, in both forms.
    const entries = new Map((await readZipEntries(zipPath)).map((e) => [e.name, e]));
    const json = JSON.parse((await readZipEntry(zipPath, entries.get('events.json')!, 1e8)).toString()) as EventItem[];
    expect(json.map((e) => e.id)).toEqual(week.map((e) => e.id));
    expect(json[5]).toMatchObject({ site: 'exp', camera: 'cam-7', seq: 5, data: { zone: 'z,2' } });
    const csv = (await readZipEntry(zipPath, entries.get('events.csv')!, 1e8)).toString().trimEnd().split('\r\n');
    expect(csv[0]).toBe('id,site,camera,seq,type,state,at,receivedAt,sourceKind,sourceTopic,snapshot,data');
    expect(csv).toHaveLength(week.length + 1);
    expect(csv[6]).toContain('"{""zone"":""z,2""}"');
    const firstPic = week[1]!.snapshot!.slice('sha256:'.length);
    const chunks: Buffer[] = [];
    for await (const c of await openZipEntry(zipPath, entries.get(`snapshots/${firstPic}.jpg`)!))
      chunks.push(c as Buffer);
    expect(Buffer.concat(chunks)).toEqual(jpeg('week-1').bytes);

    const cli = await runHubCli(env.config, ['verify-export', zipPath]);
    expect(cli.out).toContain(`export ${exportId} is intact`);
    expect(cli.out).toContain(`exported by ${police.username} (police)`);
    expect(cli.code).toBe(0);
  }, 120_000);

  it('verifies with stock tools alone: sha256sum -c and openssl pkeyutl against the published key', async () => {
    const dir = join(env.dataDir, 'unzipped');
    await mkdir(dir);
    expect(await tool('unzip', ['-q', zipPath, '-d', dir])).toMatchObject({ code: 0 });
    // The published key: what the hub operator hands out (docs/security.md), never the copy inside the archive.
    const published = join(env.dataDir, 'published-hub-key.pem');
    const pem = createPublicKey(await readFile(env.config.HUB_KEY_FILE, 'utf8')).export({
      format: 'pem',
      type: 'spki',
    });
    await writeFile(published, pem);
    /** `openssl pkeyutl -verify` of a file of the archive against a signature, with the published key. */
    const verify = (file: string, sig: string) =>
      tool(
        'openssl',
        ['pkeyutl', '-verify', '-pubin', '-inkey', published, '-rawin', '-in', file, '-sigfile', sig],
        dir,
      );
    const verifySums = () => verify('SHA256SUMS', 'SHA256SUMS.sig');

    // SHA256SUMS lists every other file of the archive.
    const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((d) => d.isFile())
      .map((d) => relative(dir, join(d.parentPath, d.name)))
      .filter((f) => f !== 'SHA256SUMS' && f !== 'SHA256SUMS.sig');
    const listed = (await readFile(join(dir, 'SHA256SUMS'), 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => l.slice(66));
    expect(listed.sort()).toEqual(files.sort());
    expect(files.length).toBeGreaterThan(3);

    expect(await verifySums()).toMatchObject({
      code: 0,
      out: expect.stringContaining('Signature Verified Successfully'),
    });
    expect(await tool('sha256sum', ['--check', '--strict', '--quiet', 'SHA256SUMS'], dir)).toMatchObject({ code: 0 });
    // The manifest's own signature too (base64 in manifest.sig).
    await writeFile(
      join(env.dataDir, 'manifest.sig.bin'),
      Buffer.from(await readFile(join(dir, 'manifest.sig'), 'utf8'), 'base64'),
    );
    const manifestCheck = await verify('manifest.json', join(env.dataDir, 'manifest.sig.bin'));
    expect(manifestCheck).toMatchObject({ code: 0 });

    // A changed snapshot fails sha256sum; re-listing its new digest fails the signature.
    const pic = `snapshots/${week[3]!.snapshot!.slice('sha256:'.length)}.jpg`;
    const original = await readFile(join(dir, pic));
    const changed = Buffer.from(original);
    changed[10] = changed[10]! ^ 0xff;
    await writeFile(join(dir, pic), changed);
    const check = await tool('sha256sum', ['--check', '--strict', 'SHA256SUMS'], dir);
    expect(check.code).toBe(1);
    expect(check.out).toContain(`${pic}: FAILED`);
    const sums = await readFile(join(dir, 'SHA256SUMS'), 'utf8');
    const newDigest = createHash('sha256').update(changed).digest('hex');
    await writeFile(
      join(dir, 'SHA256SUMS'),
      sums.replace(createHash('sha256').update(original).digest('hex'), newDigest),
    );
    expect(await tool('sha256sum', ['--check', '--strict', '--quiet', 'SHA256SUMS'], dir)).toMatchObject({ code: 0 });
    expect((await verifySums()).code).not.toBe(0);
  });

  it('detects a changed snapshot and a manifest checked with another key', async () => {
    const bytes = await readFile(zipPath);
    // Snapshots are stored uncompressed: change one byte of one of them inside the archive.
    const pic = jpeg('week-2').bytes;
    const at = bytes.indexOf(pic);
    expect(at).toBeGreaterThan(0);
    const tampered = Buffer.from(bytes);
    tampered[at + 6] = tampered[at + 6]! ^ 0xff;
    const tamperedPath = join(env.dataDir, 'tampered.zip');
    await writeFile(tamperedPath, tampered);
    const cli = await runHubCli(env.config, ['verify-export', tamperedPath]);
    expect(cli.code).toBe(1);
    expect(cli.out).toContain(`snapshots/${week[2]!.snapshot!.slice(7)}.jpg: SHA-256`);

    const stranger = generateKeyPairSync('ed25519').publicKey;
    const v = await verifyExport(zipPath, stranger);
    expect(v.ok).toBe(false);
    expect(v.problems[0]).toContain('signature does not match');
  });

  it('is for police only, is audited, and holds the exported events until released', async () => {
    for (const role of ['operator', 'technician', 'admin'] as const) {
      const u = await createUser(hub, [role]);
      expect((await exportTo(join(env.dataDir, `${role}.zip`), u)).status).toBe(403);
    }
    const entry = await hub.pg.query(
      `SELECT actor, detail FROM audit_log WHERE action = 'export.create' AND target = $1`,
      [exportId],
    );
    expect(entry.rows[0]).toMatchObject({ actor: police.username, detail: { events: week.length } });
    const holds = async () =>
      (
        await hub.pg.query(`SELECT count(*)::int AS n FROM event_holds WHERE ref = $1 AND released_at IS NULL`, [
          exportId,
        ])
      ).rows[0].n as number;
    expect(await holds()).toBe(week.length);

    const list = await hub.inject({ method: 'GET', url: '/api/v1/exports', headers: police.headers });
    expect(list.json().items.map((e: { id: string }) => e.id)).toContain(exportId);
    const again = await hub.inject({
      method: 'GET',
      url: `/api/v1/exports/${exportId}/archive`,
      headers: police.headers,
    });
    expect(createHash('sha256').update(again.rawPayload).digest('hex')).toBe(list.json().items[0].sha256);
    const other = await createUser(hub, ['police']);
    const notTheirs = await hub.inject({
      method: 'GET',
      url: `/api/v1/exports/${exportId}/archive`,
      headers: other.headers,
    });
    expect(notTheirs.statusCode).toBe(404);

    const rel = await hub.inject({
      method: 'POST',
      url: `/api/v1/exports/${exportId}/release`,
      headers: police.headers,
    });
    expect(rel.statusCode).toBe(200);
    expect(rel.json().status).toBe('released');
    expect(await holds()).toBe(0);
  });

  it('limits a site-bound officer to their sites', async () => {
    const local = await createUser(hub, ['police'], { sites: ['other'] });
    expect((await exportTo(join(env.dataDir, 'x.zip'), local)).status).toBe(404);
    const path = join(env.dataDir, 'local.zip');
    const res = await exportTo(path, local, { from: filters.from, to: filters.to });
    expect(res.status).toBe(200);
    const hubKey = createPublicKey(await readFile(env.config.HUB_KEY_FILE, 'utf8'));
    const v = await verifyExport(path, hubKey);
    expect(v.manifest?.counts.events).toBe(1);
  });
});
