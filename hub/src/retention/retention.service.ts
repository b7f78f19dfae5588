import type { AuditRepository } from '../audit/audit.repository.js';
import type { AuditService } from '../audit/audit.service.js';
import type { AuthRepository } from '../auth/auth.repository.js';
import type { StatusRepository } from '../cameras/status.repository.js';
import type { ClipStore } from '../clips/clip-store.js';
import type { ClipsRepository } from '../clips/clips.repository.js';
import type { SnapshotStore } from '../media/snapshot-store.js';
import type { RetentionRepository } from './retention.repository.js';

export interface RetentionSettings {
  eventsDays: number;
  snapshotsDays: number;
  clipsDays: number;
  auditDays: number;
  /** Failed logins older than this are forgotten (the throttle window, or the known-IP memory if longer). */
  attemptsKeepSec: number;
  /** Ingest rejections (with their raw payloads) older than this are deleted. */
  rejectionsDays: number;
  batch: number;
  healthDays: number;
  /** Health samples are many and small: their own, larger batch. */
  healthBatch: number;
}

export interface RetentionResult {
  events: number;
  /** Day partitions of events dropped whole (their rows are counted in `events` too). */
  partitions: number;
  snapshots: number;
  clips: number;
  audit: number;
  auth: number;
  rejections: number;
}

const DAY_MS = 86_400_000;

/** Deletes what has expired, kind by kind, in bounded batches; held events and their snapshots stay. */
export function createRetentionService(deps: {
  repo: RetentionRepository;
  auditRepo: AuditRepository;
  authRepo: AuthRepository;
  healthRepo: Pick<StatusRepository, 'deleteHealthBefore'>;
  audit: AuditService;
  snapshots: SnapshotStore;
  clips: { repo: ClipsRepository; store: ClipStore };
  settings: RetentionSettings;
  now?: () => Date;
}) {
  const { repo, snapshots, settings: s } = deps;
  const now = deps.now ?? (() => new Date());

  async function purgeSnapshots(before: Date): Promise<number> {
    let purged = 0;
    let after: { at: Date; id: string } | null = null;
    for (;;) {
      const rows = await repo.expiredSnapshotCandidates(before, after, s.batch);
      const seen = new Set<string>();
      for (const r of rows) {
        if (seen.has(r.snapshot)) continue;
        seen.add(r.snapshot);
        // Content-addressed: two events may share a file, and the newer (or held) one keeps it.
        if (await repo.snapshotStillNeeded(r.snapshot, before)) continue;
        // File first, then the mark: a crash in between leaves the event a candidate, so the file is retried.
        await snapshots.remove(r.snapshot);
        await repo.markSnapshotPurged(r.snapshot);
        purged += 1;
      }
      if (rows.length < s.batch) return purged;
      const last = rows[rows.length - 1]!;
      after = { at: last.at, id: last.id };
    }
  }

  /**
   * Clips of events older than `before` that nothing holds: their links are marked purged (history keeps saying there
   * was a clip), then every file no live link needs is deleted, file first and row second, so that a crash in
   * between leaves a row whose file is retried, never a file nobody accounts for.
   */
  async function purgeClips(before: Date): Promise<number> {
    const { repo: clips, store } = deps.clips;
    for (;;) {
      const links = await clips.expiredLinks(before, s.batch);
      if (links.length > 0) await clips.markPurged(links.map((l) => l.event));
      if (links.length < s.batch) break;
    }
    let purged = 0;
    for (;;) {
      const refs = await clips.unneededFiles(before, s.batch);
      for (const ref of refs) {
        await store.remove(ref);
        await clips.forgetFile(ref);
        purged += 1;
      }
      if (refs.length < s.batch) return purged;
    }
  }

  return {
    /** Health samples past HEALTH_RETENTION_DAYS (the hourly `health-retention` job). Returns how many went. */
    async purgeHealth(): Promise<number> {
      const before = new Date(now().getTime() - s.healthDays * DAY_MS);
      let deleted = 0;
      // Bounded batches: never one long DELETE holding locks against ingest.
      for (let n = -1; n !== 0;) {
        n = await deps.healthRepo.deleteHealthBefore(before, s.healthBatch);
        deleted += n;
      }
      return deleted;
    },

    /**
     * Creates the day partitions of events from yesterday to `aheadDays` ahead (UTC) that are missing, so that new
     * events land in their day and not in events_default. Returns how many were created.
     */
    async ensureEventPartitions(aheadDays: number): Promise<number> {
      const t = now().getTime();
      return repo.ensureEventPartitions(new Date(t - DAY_MS), new Date(t + aheadDays * DAY_MS));
    },

    async run(): Promise<RetentionResult> {
      const t = now().getTime();
      const result: RetentionResult = {
        events: 0,
        partitions: 0,
        snapshots: 0,
        clips: 0,
        audit: 0,
        auth: 0,
        rejections: 0,
      };

      result.snapshots = await purgeSnapshots(new Date(t - s.snapshotsDays * DAY_MS));
      result.clips = await purgeClips(new Date(t - s.clipsDays * DAY_MS));

      const eventsBefore = new Date(t - s.eventsDays * DAY_MS);
      // Whole days first: a day whose ids all lie before the cutoff goes in one DROP when nothing in it is kept
      // (rows dated later than their id, or held, keep it; the per-row path below then takes what it can).
      const days = await repo.eventPartitions();
      // The day the cutoff falls in: its expired rows are not deleted one by one, its partition goes whole tomorrow
      // (an event is kept at most a day longer than RETENTION_EVENTS_DAYS; rows dated later than their id, events
      // of other days and events_default are still deleted row by row as soon as they expire).
      const straddling = days.find(
        (p) => p.day.getTime() <= eventsBefore.getTime() && eventsBefore.getTime() < p.day.getTime() + DAY_MS,
      );
      for (const p of days) {
        if (p.day.getTime() + DAY_MS > eventsBefore.getTime()) break;
        const dropped = await repo.dropExpiredPartition(p, eventsBefore);
        if (!dropped) continue;
        result.partitions += 1;
        result.events += dropped.rows;
        for (const ref of dropped.snapshots) {
          if (!(await repo.snapshotReferenced(ref))) {
            await snapshots.remove(ref);
            result.snapshots += 1;
          }
        }
      }

      for (let n = s.batch; n === s.batch;) {
        const batch = await repo.deleteExpiredEvents(eventsBefore, s.batch, straddling);
        n = batch.deleted;
        result.events += batch.deleted;
        for (const ref of batch.snapshots) {
          if (!(await repo.snapshotReferenced(ref))) {
            await snapshots.remove(ref);
            result.snapshots += 1;
          }
        }
      }

      for (let n = -1; n !== 0;) {
        n = await deps.auditRepo.pruneBefore(new Date(t - s.auditDays * DAY_MS), s.batch);
        result.audit += n;
      }

      for (let n = -1; n !== 0;) {
        n = await deps.authRepo.pruneAuth(new Date(t - s.attemptsKeepSec * 1000), new Date(t - DAY_MS), s.batch);
        result.auth += n;
      }

      for (let n = -1; n !== 0;) {
        n = await repo.deleteOldRejections(new Date(t - s.rejectionsDays * DAY_MS), s.batch);
        result.rejections += n;
      }

      // Deleting evidence is itself worth a line in the trail.
      if (result.events + result.snapshots + result.clips + result.audit > 0) {
        await deps.audit.record(
          { actor: 'system', roles: [], ip: null },
          {
            action: 'retention.run',
            detail: {
              ...result,
              days: { events: s.eventsDays, snapshots: s.snapshotsDays, clips: s.clipsDays, audit: s.auditDays },
            },
          },
        );
      }
      return result;
    },
  };
}
export type RetentionService = ReturnType<typeof createRetentionService>;
