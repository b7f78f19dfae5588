import type pg from 'pg';
import type { HubBus } from '../bus.js';
import { withTransaction } from '../db/queryable.js';
import { BadRequestError, NotFoundError } from '../errors.js';
import type { CamerasRepository } from './cameras.repository.js';
import { decideStatus, uptime } from './status-decider.js';
import type { StatusRepository } from './status.repository.js';

const DAY_MS = 24 * 3600 * 1000;

/** Keeps each camera's verdict current and records every change of it. */
export function createStatusService(deps: {
  pool: pg.Pool;
  repo: StatusRepository;
  cameras: CamerasRepository;
  bus: HubBus;
  staleMs: number;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());
  const { pool, repo, bus } = deps;

  /** Re-decides the given cameras; records and announces each change. Returns how many changed. */
  async function reconcile(keys: { site: string; camera: string }[]): Promise<number> {
    if (keys.length === 0) return 0;
    const t = now();
    const changes = await withTransaction(pool, async (tx) => {
      const facts = await repo.lockFacts(keys, tx);
      const changed = [];
      for (const f of facts) {
        const v = decideStatus(f, t, deps.staleMs);
        if (v.status === f.current) continue;
        const change = {
          site: f.site,
          camera: f.camera,
          from: f.current,
          to: v.status,
          problems: v.problems,
          since: v.since,
        };
        await repo.setStatus(change, tx);
        changed.push(change);
      }
      return changed;
    });
    for (const c of changes) {
      bus.emit('camera.status', {
        site: c.site,
        camera: c.camera,
        from: c.from,
        to: c.to,
        problems: c.problems,
        at: c.since.toISOString(),
      });
    }
    return changes.length;
  }

  return {
    reconcile,

    /** A whole site at once: its agent went away or came back. */
    async reconcileSite(site: string): Promise<number> {
      return reconcile(await repo.camerasOfSite(site));
    },

    /** Finds cameras whose heartbeat stopped and marks them offline (run periodically by one hub at a time). */
    async sweep(): Promise<number> {
      const silent = await repo.silentSince(new Date(now().getTime() - deps.staleMs), 5000);
      return reconcile(silent);
    },

    async transitions(site: string, camera: string, from?: string, to?: string) {
      const end = to ? new Date(to) : now();
      const start = from ? new Date(from) : new Date(end.getTime() - 7 * DAY_MS);
      if (start >= end) throw new BadRequestError('invalid_range', '`from` must be before `to`');
      if (!(await deps.cameras.exists(site, camera))) throw new NotFoundError('camera');
      const rows = await repo.transitions(site, camera, start, end, 10_000);
      const initial = (await repo.statusAt(site, camera, start)) ?? 'unknown';
      const u = uptime(
        initial,
        rows.map((r) => ({ to: r.to_status, at: r.at })),
        start,
        end > now() ? now() : end,
      );
      return {
        items: rows.map((r) => ({
          from: r.from_status,
          to: r.to_status,
          problems: r.problems,
          at: r.at.toISOString(),
        })),
        uptime: {
          from: start.toISOString(),
          to: end.toISOString(),
          pct: u.uptimePct === null ? null : Math.round(u.uptimePct * 1000) / 1000,
          seconds: Object.fromEntries(Object.entries(u.seconds).map(([k, v]) => [k, Math.round(v)])) as Record<
            string,
            number
          >,
        },
      };
    },
  };
}
export type StatusService = ReturnType<typeof createStatusService>;
