import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventItem, ExportItem, ExportRequest } from '@camhub/shared';
import type { AuditActor, AuditService } from '../audit/audit.service.js';
import type { AuthUser } from '../auth/auth.service.js';
import type { HubKeys } from '../auth/keys.js';
import { AppError, BadRequestError, NotFoundError } from '../errors.js';
import type { EventFilter } from '../events/events.repository.js';
import type { SnapshotStore } from '../media/snapshot-store.js';
import type { ClipStore } from '../clips/clip-store.js';
import { type ExportManifest, fileOpener, MANIFEST_FORMAT, writeArchive, writeEventFiles } from './export-archive.js';
import type { ExportRecord, ExportsRepository } from './exports.repository.js';

export class ExportTooLargeError extends AppError {
  constructor(count: number, max: number) {
    super('export_too_large', `the filters match ${count} events; an export holds at most ${max}: narrow them`, 413);
  }
}

const PAGE = 1000;
const publicView = ({ file: _file, ...item }: ExportRecord): ExportItem => item;

export function createExportsService(deps: {
  repo: ExportsRepository;
  audit: AuditService;
  snapshots: SnapshotStore;
  /** Event clips go into the archive beside the snapshots. */
  clips: ClipStore;
  keys: HubKeys;
  dir: string;
  maxEvents: number;
}) {
  const { repo, audit, snapshots, keys } = deps;

  async function* pages(filter: EventFilter) {
    let after: { at: string; id: string } | null = null;
    for (;;) {
      const page = await repo.eventsAfter(filter, after, PAGE);
      if (page.length === 0) return;
      yield page;
      if (page.length < PAGE) return;
      const last = page[page.length - 1]!;
      after = { at: last.at, id: last.id };
    }
  }

  return {
    /**
     * Builds a signed evidence archive of every event matching the history filters (limited to the user's sites),
     * holds those events against retention, and records who exported what. Returns the finished record.
     */
    async create(req: ExportRequest, user: AuthUser, who: AuditActor): Promise<ExportRecord> {
      if (req.camera && !req.site) {
        throw new BadRequestError('invalid_request', '`camera` needs `site`: camera ids are unique only within a site');
      }
      if (req.site && user.sites && !user.sites.includes(req.site)) throw new NotFoundError('site');
      const createdAt = new Date();
      // An open-ended range is closed at the export's time, so the archive and its holds cover the same events.
      const to = req.to ?? createdAt.toISOString();
      if (req.from && Date.parse(req.from) >= Date.parse(to)) {
        throw new BadRequestError('invalid_range', '`from` must be earlier than `to`');
      }
      const filters = { site: req.site, camera: req.camera, type: req.type, from: req.from, to };
      const filter: EventFilter = { ...filters, sites: user.sites ?? undefined };
      const count = await repo.countEvents(filter);
      if (count > deps.maxEvents) throw new ExportTooLargeError(count, deps.maxEvents);

      const id = randomUUID();
      const stored = Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined));
      await repo.insert({ id, createdBy: user.username, filters: { ...stored, reason: req.reason ?? null } });
      await repo.holdEvents(id, filter);
      const work = join(deps.dir, `${id}.parts`);
      const outPath = join(deps.dir, `${id}.zip`);
      try {
        await mkdir(work, { recursive: true, mode: 0o700 });
        const refs = new Map<string, 'ok' | 'expired' | 'not_uploaded'>();
        const clipRefs = new Set<string>();
        const events = await writeEventFiles(
          pages(filter),
          join(work, 'events.csv'),
          join(work, 'events.json'),
          async (e: EventItem & { snapshotPurged?: boolean }) => {
            if (e.clip?.available) clipRefs.add(e.clip.ref);
            if (!e.snapshot || refs.has(e.snapshot)) return;
            if (e.snapshotPurged) refs.set(e.snapshot, 'expired');
            else refs.set(e.snapshot, (await snapshots.has(e.snapshot)) ? 'ok' : 'not_uploaded');
          },
        );
        const present = [...refs].filter(([, s]) => s === 'ok').map(([ref]) => ref);
        const missing = [...refs]
          .filter(([, s]) => s !== 'ok')
          .map(([ref, s]) => ({ ref, reason: s as 'expired' | 'not_uploaded' }));
        const manifest: Omit<ExportManifest, 'files'> = {
          format: MANIFEST_FORMAT,
          exportId: id,
          createdAt: createdAt.toISOString(),
          exportedBy: { username: user.username, roles: user.roles },
          filters: stored,
          reason: req.reason ?? null,
          hub: { keyId: keys.keyId, signature: 'Ed25519 over the bytes of manifest.json, base64 in manifest.sig' },
          counts: { events, snapshots: present.length, snapshotsMissing: missing.length, clips: clipRefs.size },
          missingSnapshots: missing,
        };
        const tmp = `${outPath}.tmp`;
        const archive = await writeArchive({
          outPath: tmp,
          files: [
            { path: 'events.csv', open: fileOpener(join(work, 'events.csv')), compress: true },
            { path: 'events.json', open: fileOpener(join(work, 'events.json')), compress: true },
            ...present.map((ref) => ({
              path: `snapshots/${ref.slice('sha256:'.length)}.jpg`,
              open: async () => {
                const file = await snapshots.open(ref);
                if (!file) throw new Error(`snapshot ${ref} disappeared while exporting`);
                return file.stream;
              },
              // JPEG does not compress; storing keeps the export fast.
              compress: false,
            })),
            // Held with their events (the export's hold keeps retention off them), so still there.
            ...[...clipRefs].map((ref) => ({
              path: `clips/${ref.slice('sha256:'.length)}.mp4`,
              open: async () => deps.clips.read(ref),
              compress: false,
            })),
          ],
          manifest,
          privateKey: keys.privateKey,
          publicKeyPem: keys.publicKeyPem,
        });
        await rename(tmp, outPath);
        const done = {
          status: 'ready' as const,
          events,
          snapshots: present.length,
          bytes: archive.bytes,
          sha256: archive.sha256,
          file: outPath,
        };
        await repo.finish(id, done);
        await audit.record(who, {
          action: 'export.create',
          target: id,
          detail: {
            filters: stored,
            reason: req.reason ?? null,
            events,
            snapshots: present.length,
            sha256: archive.sha256,
          },
        });
        return (await repo.get(id))!;
      } catch (err) {
        await repo.finish(id, { status: 'failed' });
        await rm(`${outPath}.tmp`, { force: true });
        throw err;
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    },

    /** Police see their own exports; admins see all. */
    async list(user: AuthUser): Promise<ExportItem[]> {
      const mine = user.roles.includes('admin') ? undefined : user.username;
      return (await repo.list(mine)).map(publicView);
    },

    async archive(
      id: string,
      user: AuthUser,
      who: AuditActor,
    ): Promise<{ record: ExportRecord; path: string; size: number }> {
      const record = await repo.get(id);
      if (!record || (!user.roles.includes('admin') && record.createdBy !== user.username)) {
        throw new NotFoundError('export');
      }
      if (record.status !== 'ready' || !record.file) throw new NotFoundError('export archive', 'export_not_available');
      const { size } = await stat(record.file);
      await audit.record(who, { action: 'export.download', target: id, detail: { sha256: record.sha256 } });
      return { record, path: record.file, size };
    },

    /** Ends the export's hold on its events and deletes the archive file (the manifest's hash stays in the audit). */
    async release(id: string, user: AuthUser, who: AuditActor): Promise<ExportItem> {
      const record = await repo.get(id);
      if (!record || (!user.roles.includes('admin') && record.createdBy !== user.username)) {
        throw new NotFoundError('export');
      }
      const released = await repo.release(id, user.username);
      if (record.file) await rm(record.file, { force: true });
      await audit.record(who, { action: 'export.release', target: id, detail: { holdsReleased: released } });
      return publicView((await repo.get(id))!);
    },
  };
}
export type ExportsService = ReturnType<typeof createExportsService>;
