import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, CAMERA_STATUSES, type CameraItem } from '../api.js';
import { LineChart, type Outage, type Point } from '../components/chart.js';
import { ErrorNotice, Loading, Problems, StatusBadge } from '../components/common.js';
import { DataTable } from '../components/data-table.js';
import { useConsole } from '../context.js';
import { useAsync } from '../hooks.js';
import { formatDateTime, formatNumber, formatPercent, label, type MessageKey, t } from '../i18n/index.js';
import type { CameraStatusMessage } from '../live.js';
import { rememberCameras, siteName, useNames } from '../names.js';
import { href, navigate, type Route } from '../router.js';
import { measuring, shownStatus } from '../camera-state.js';
import { withLiveStatus } from './wall.js';

/** Figures measured while the camera was up; for a camera that is not, they would be stale and misleading. */

type Column = 'name' | 'site' | 'status' | 'since' | 'fps' | 'bitrate' | 'skew' | 'subscription';
const STATUS_RANK: Record<string, number> = { offline: 0, unknown: 1, degraded: 2, online: 3, disabled: 4 };

const value = (c: CameraItem, col: Column): string | number => {
  switch (col) {
    case 'name':
      return c.name.toLowerCase();
    case 'site':
      return c.site;
    case 'status':
      return STATUS_RANK[shownStatus(c)] ?? 9;
    case 'since':
      return c.since ?? '';
    case 'fps':
      return measuring(c) ? (c.health?.stream?.fps ?? -1) : -1;
    case 'bitrate':
      return measuring(c) ? (c.health?.stream?.bitrateKbps ?? -1) : -1;
    case 'skew':
      return Math.abs(c.health?.onvif?.clockSkewMs ?? 0);
    case 'subscription':
      return c.health?.onvif?.eventsSubscribed ? 1 : 0;
  }
};

const COLUMNS: { col: Column; key: MessageKey }[] = [
  { col: 'name', key: 'common.camera' },
  { col: 'site', key: 'common.site' },
  { col: 'status', key: 'common.status' },
  { col: 'since', key: 'common.since' },
  { col: 'fps', key: 'health.fps' },
  { col: 'bitrate', key: 'health.bitrate' },
  { col: 'skew', key: 'health.skew' },
  { col: 'subscription', key: 'health.subscription' },
];

/** The health board for technicians: every camera, sortable and filterable. */
export function HealthView({ route }: { route: Route }) {
  const status = route.query.get('status') ?? '';
  const site = route.query.get('site') ?? '';
  const sort = (route.query.get('sort') ?? 'status') as Column;
  const dir = route.query.get('dir') === 'desc' ? -1 : 1;
  const [filter, setFilter] = useState('');
  const { live } = useConsole();
  useNames();
  // The list is reloaded now and then; status changes arrive pushed by the hub in between (not polled).
  const cameras = useAsync(() => api.cameras().then((l) => (rememberCameras(l), l)), [], 60_000);
  const [pushed, setPushed] = useState<Map<string, CameraStatusMessage>>(new Map());
  useEffect(
    () =>
      live.subscribe((m) => {
        if (m.kind === 'camera') {
          const s = m.status;
          setPushed((all) => new Map(all).set(`${s.site}/${s.camera}`, s));
          cameras.reload();
        } else if (m.kind === 'resync') cameras.reload();
      }),
    [live],
  );
  const sites = [...new Set((cameras.data ?? []).map((c) => c.site))].sort();
  const rows = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    return withLiveStatus(cameras.data ?? [], pushed)
      .filter((c) => (!status || c.status === status) && (!site || c.site === site))
      .filter((c) => !needle || c.name.toLowerCase().includes(needle) || c.camera.toLowerCase().includes(needle))
      .sort((a, b) => {
        const x = value(a, sort);
        const y = value(b, sort);
        return (x < y ? -1 : x > y ? 1 : a.name.localeCompare(b.name)) * dir;
      });
  }, [cameras.data, pushed, filter, status, site, sort, dir]);
  const go = (q: Record<string, string | undefined>) =>
    navigate(['health'], {
      status: status || undefined,
      site: site || undefined,
      sort,
      dir: dir < 0 ? 'desc' : undefined,
      ...q,
    });

  return (
    <section aria-labelledby="health-title">
      <div class="toolbar">
        <h1 id="health-title">{t('health.title')}</h1>
        <label>
          {t('health.filter')} <input type="search" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
        </label>
        <label>
          {t('common.status')}{' '}
          <select value={status} onChange={(e) => go({ status: e.currentTarget.value || undefined })}>
            <option value="">{t('common.all')}</option>
            {CAMERA_STATUSES.map((s) => (
              <option key={s} value={s}>
                {label('status', s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('common.site')}{' '}
          <select value={site} onChange={(e) => go({ site: e.currentTarget.value || undefined })}>
            <option value="">{t('common.all')}</option>
            {sites.map((s) => (
              <option key={s} value={s}>
                {siteName(s)}
              </option>
            ))}
          </select>
        </label>
        <span class="muted">{t('health.count', { count: formatNumber(rows.length, 0) })}</span>
      </div>
      <ErrorNotice error={cameras.error} what="GET /cameras" />
      <Loading when={cameras.loading && !cameras.data}>
        <table class="data health-board">
          <thead>
            <tr>
              {COLUMNS.map(({ col, key }) => (
                <th key={col} scope="col" aria-sort={sort === col ? (dir > 0 ? 'ascending' : 'descending') : 'none'}>
                  <button
                    type="button"
                    class="link"
                    aria-label={t('health.sortBy', { column: t(key) })}
                    onClick={() => go({ sort: col, dir: sort === col && dir > 0 ? 'desc' : undefined })}
                  >
                    {t(key)} {sort === col ? (dir > 0 ? '▲' : '▼') : ''}
                  </button>
                </th>
              ))}
              <th scope="col">{t('common.problems')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((c) => (
              <tr key={`${c.site}/${c.camera}`} data-camera={c.camera} data-status={shownStatus(c)}>
                <td data-label={t('common.camera')}>
                  <a href={href(['health', c.site, c.camera])} title={`${c.site}/${c.camera}`}>
                    {c.name}
                  </a>
                </td>
                <td data-label={t('common.site')} title={c.site}>
                  {siteName(c.site)}
                </td>
                <td data-label={t('common.status')}>
                  <StatusBadge status={shownStatus(c)} />
                </td>
                <td data-label={t('common.since')}>{formatDateTime(c.since, c.site)}</td>
                <td class="num" data-label={t('health.fps')}>
                  {measuring(c) ? formatNumber(c.health?.stream?.fps) : '—'}
                </td>
                <td class="num" data-label={t('health.bitrate')}>
                  {measuring(c) ? formatNumber(c.health?.stream?.bitrateKbps, 0) : '—'}
                </td>
                <td class="num" data-label={t('health.skew')}>
                  {measuring(c) ? formatNumber(c.health?.onvif?.clockSkewMs, 0) : '—'}
                </td>
                <td data-label={t('health.subscription')}>
                  {!measuring(c) || c.health?.onvif?.eventsSubscribed === undefined
                    ? '—'
                    : c.health.onvif.eventsSubscribed
                      ? t('health.subscribed')
                      : t('health.notSubscribed')}
                </td>
                <td data-label={t('common.problems')}>
                  <Problems problems={c.problems} help />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Loading>
    </section>
  );
}

const RANGES: { id: string; ms: number; key: MessageKey }[] = [
  { id: '1h', ms: 3600_000, key: 'health.range.1h' },
  { id: '24h', ms: 24 * 3600_000, key: 'health.range.24h' },
  { id: '7d', ms: 7 * 24 * 3600_000, key: 'health.range.7d' },
  { id: '30d', ms: 30 * 24 * 3600_000, key: 'health.range.30d' },
];

/** One camera's health over a range: fps/bitrate/latency charts, status transitions, uptime. */
export function HealthCameraView({ site, camera, route }: { site: string; camera: string; route: Route }) {
  const range = RANGES.find((r) => r.id === route.query.get('range')) ?? RANGES[1]!;
  const [to, setTo] = useState(() => Date.now());
  const from = to - range.ms;
  const fromIso = new Date(from).toISOString();
  const toIso = new Date(to).toISOString();
  const samples = useAsync(() => api.health(site, camera, fromIso, toIso), [site, camera, fromIso, toIso]);
  const transitions = useAsync(() => api.transitions(site, camera, fromIso, toIso), [site, camera, fromIso, toIso]);
  const info = useAsync(
    () => api.cameras({ site }).then((l) => l.find((c) => c.camera === camera) ?? null),
    [site, camera],
  );
  useNames();
  // A sample taken while the camera was down carries no real figures (a frozen stream keeps its last fps): gaps.
  const series = (pick: (s: NonNullable<typeof samples.data>[number]) => number | null | undefined): Point[] =>
    (samples.data ?? []).map((s) => ({
      at: Date.parse(s.at),
      value: s.status === 'offline' ? null : (pick(s) ?? null),
    }));
  const outages = outagesOf(transitions.data, from, to);
  const uptime = transitions.data?.uptime;
  return (
    <section aria-labelledby="hc-title">
      <p>
        <a href={href(['health'])}>← {t('common.back')}</a>
      </p>
      <h1 id="hc-title">
        <span title={`${site}/${camera}`}>{info.data?.name ?? camera}</span>{' '}
        <span class="muted" title={site}>
          ({siteName(site)})
        </span>{' '}
        {info.data && <StatusBadge status={info.data.status} />}
      </h1>
      <div class="toolbar">
        <fieldset class="grid-choice">
          <legend>{t('health.range')}</legend>
          {RANGES.map((r) => (
            <button
              key={r.id}
              type="button"
              aria-pressed={r.id === range.id}
              onClick={() => {
                setTo(Date.now());
                navigate(['health', site, camera], { range: r.id });
              }}
            >
              {t(r.key)}
            </button>
          ))}
        </fieldset>
        <strong>
          {uptime && uptime.pct !== null
            ? t('health.uptime', { pct: formatPercent(uptime.pct) })
            : t('health.uptimeUnknown')}
        </strong>
      </div>
      <ErrorNotice error={samples.error ?? transitions.error} what="GET /cameras/:site/:camera/health" />
      <h2>{t('health.charts')}</h2>
      <Loading when={samples.loading && !samples.data}>
        {(samples.data ?? []).length === 0 ? (
          <p class="muted">{t('health.noSamples')}</p>
        ) : (
          <div class="charts">
            <LineChart
              title={t('health.fps')}
              points={series((s) => s.stream?.fps)}
              outages={outages}
              from={from}
              to={to}
              site={site}
            />
            <LineChart
              title={t('health.bitrate')}
              points={series((s) => s.stream?.bitrateKbps)}
              outages={outages}
              from={from}
              to={to}
              site={site}
            />
            <LineChart
              title={t('health.latency')}
              points={series((s) => s.onvif?.latencyMs)}
              outages={outages}
              from={from}
              to={to}
              site={site}
            />
          </div>
        )}
      </Loading>
      <h2>{t('health.transitions')}</h2>
      <Loading when={transitions.loading && !transitions.data}>
        {(transitions.data?.items ?? []).length === 0 ? (
          <p class="muted">{t('common.none')}</p>
        ) : (
          <DataTable columns={['common.time', 'common.from', 'common.to', 'common.problems']}>
            {[...(transitions.data?.items ?? [])].reverse().map((tr) => (
              <tr key={tr.at + tr.to}>
                <td>{formatDateTime(tr.at, site)}</td>
                <td>
                  <StatusBadge status={tr.from} />
                </td>
                <td>
                  <StatusBadge status={tr.to} />
                </td>
                <td>
                  <Problems problems={tr.problems} />
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </Loading>
    </section>
  );
}

/**
 * Spans of the range when the camera was not up (offline, unknown) or had problems (degraded), from its status
 * transitions: drawn behind the chart lines so an outage is never mistaken for a flat line.
 */
export function outagesOf(
  data: { items: { from: string; to: string; at: string }[]; uptime?: { seconds: Record<string, number> } } | undefined,
  from: number,
  to: number,
): Outage[] {
  if (!data) return [];
  if (data.items.length === 0) {
    // No change in the range: the camera was in one status throughout; draw it if that was not "online".
    const secs = data.uptime?.seconds ?? {};
    const whole = Object.entries(secs).find(([, v]) => v > 0)?.[0];
    return whole && whole !== 'online' ? [{ from, to: Math.min(Date.now(), to), status: whole }] : [];
  }
  const out: Outage[] = [];
  let status = data.items[0]?.from ?? null;
  let since = from;
  for (const tr of data.items) {
    const at = Math.min(Math.max(Date.parse(tr.at), from), to);
    if (status && status !== 'online') out.push({ from: since, to: at, status });
    status = tr.to;
    since = at;
  }
  if (status && status !== 'online' && data.items.length > 0)
    out.push({ from: since, to: Math.min(Date.now(), to), status });
  return out.filter((o) => o.to > o.from);
}
