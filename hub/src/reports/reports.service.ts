import type { Report } from '@camhub/shared';
import { BadRequestError } from '../errors.js';
import { csvCell } from '../exports/csv.js';
import type { ReportsRepository } from './reports.repository.js';

/** A report spans at most this long: a year, enough for an annual review ("tổng kết năm"). */
const MAX_PERIOD_MS = 366 * 24 * 3600 * 1000;
const WORST_CAMERAS = 10;

const pct = (up: number, known: number) => (known > 0 ? (100 * up) / known : null);
const hours = (seconds: number) => Math.round((seconds / 3600) * 100) / 100;

/**
 * The committee's report. `sites`: those asked for, already limited to the user's own (null: all). The figures are
 * SQL over the history; this service only sums camera seconds into sites and ranks cameras.
 */
export function createReportsService(deps: { reports: ReportsRepository }) {
  const { reports } = deps;

  return {
    async summary(q: { from: string; to: string; sites: string[] | null }): Promise<Report> {
      const from = new Date(q.from);
      const to = new Date(q.to);
      if (!(from < to)) throw new BadRequestError('invalid_period', '`from` must be before `to`');
      if (to.getTime() - from.getTime() > MAX_PERIOD_MS) {
        throw new BadRequestError('period_too_long', 'a report covers at most 366 days');
      }
      const scope = { from, to, sites: q.sites };
      const [events, alerts, cameras] = await Promise.all([
        reports.events(scope),
        reports.alerts(scope),
        reports.cameraSeconds(scope),
      ]);

      const bySite = new Map<string, Report['uptime']['bySite'][number]>();
      for (const c of cameras) {
        const s = bySite.get(c.site) ?? {
          site: c.site,
          cameras: 0,
          seconds: { online: 0, degraded: 0, offline: 0, unknown: 0 },
          uptimePct: null,
          offlineHours: 0,
        };
        s.cameras += 1;
        s.seconds.online += c.online;
        s.seconds.degraded += c.degraded;
        s.seconds.offline += c.offline;
        s.seconds.unknown += c.unknown;
        bySite.set(c.site, s);
      }
      for (const s of bySite.values()) {
        const { online, degraded, offline } = s.seconds;
        s.uptimePct = pct(online + degraded, online + degraded + offline);
        s.offlineHours = hours(offline);
      }
      const worstCameras = cameras
        .map((c) => ({
          site: c.site,
          camera: c.camera,
          name: c.name,
          uptimePct: pct(c.online + c.degraded, c.online + c.degraded + c.offline),
          offlineHours: hours(c.offline),
        }))
        .filter((c): c is typeof c & { uptimePct: number } => c.uptimePct !== null)
        .sort((a, b) => a.uptimePct - b.uptimePct || b.offlineHours - a.offlineHours)
        .slice(0, WORST_CAMERAS);

      const sites = new Set<string>(q.sites ?? []);
      for (const e of events) sites.add(e.site);
      for (const a of alerts.bySeverity) sites.add(a.site);
      for (const s of bySite.keys()) sites.add(s);
      return {
        from: from.toISOString(),
        to: to.toISOString(),
        sites: [...sites].sort(),
        events,
        alerts,
        uptime: { bySite: [...bySite.values()], worstCameras },
      };
    },
  };
}
export type ReportsService = ReturnType<typeof createReportsService>;

/**
 * The report as one CSV table for spreadsheets: a `section` column says which figure a row is, codes stay codes
 * (the console and the PDF name them), every number in its own cell.
 */
export function reportCsv(r: Report): string {
  const rows: (string | number | null)[][] = [['section', 'site', 'camera', 'key', 'value']];
  rows.push(['period', null, null, 'from', r.from], ['period', null, null, 'to', r.to]);
  for (const e of r.events) rows.push(['events', e.site, null, e.type, e.count]);
  for (const a of r.alerts.bySeverity) rows.push(['alerts', a.site, null, a.severity, a.count]);
  const a = r.alerts;
  for (const [key, value] of [
    ['opened', a.opened],
    ['acknowledged', a.acknowledged],
    ['resolved', a.resolved],
    ['auto_resolved', a.autoResolved],
    ['false_alarms', a.falseAlarms],
    ['false_alarm_share', a.falseAlarmShare],
    ['escalated', a.escalated],
    ['ack_seconds_median', a.ackSeconds.median],
    ['ack_seconds_p90', a.ackSeconds.p90],
    ['resolve_seconds_median', a.resolveSeconds.median],
    ['resolve_seconds_p90', a.resolveSeconds.p90],
  ] as const) {
    rows.push(['alert_handling', null, null, key, value]);
  }
  for (const s of r.uptime.bySite) {
    rows.push(['uptime', s.site, null, 'cameras', s.cameras]);
    rows.push(['uptime', s.site, null, 'uptime_pct', s.uptimePct === null ? null : round2(s.uptimePct)]);
    rows.push(['uptime', s.site, null, 'offline_hours', s.offlineHours]);
  }
  for (const c of r.uptime.worstCameras) {
    rows.push(['worst_cameras', c.site, c.camera, 'uptime_pct', round2(c.uptimePct)]);
    rows.push(['worst_cameras', c.site, c.camera, 'offline_hours', c.offlineHours]);
  }
  return `${rows.map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

const round2 = (n: number) => Math.round(n * 100) / 100;
