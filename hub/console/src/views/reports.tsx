import { useMemo, useState } from 'preact/hooks';
import { api, type Report } from '../api.js';
import { ErrorNotice, Loading } from '../components/common.js';
import { DataTable } from '../components/data-table.js';
import { useAsync } from '../hooks.js';
import { formatDate, formatDuration, formatNumber, formatPercent, label, localInputToIso, t } from '../i18n/index.js';
import { siteName, useNames } from '../names.js';

type Preset = 'week' | 'month' | 'quarter' | 'custom';
const PRESETS: Preset[] = ['week', 'month', 'quarter', 'custom'];

/** YYYY-MM-DD of a date counted in the hub's default zone (the committee's calendar). */
function dayOf(d: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(d);
}

/** The previous whole period of a preset, as [first day, day after the last] in local calendar days. */
function presetDays(preset: Exclude<Preset, 'custom'>, now = new Date()): [string, string] {
  const [y, m] = dayOf(now).split('-').map(Number) as [number, number];
  const iso = (year: number, month: number) => `${year}-${String(month).padStart(2, '0')}-01`;
  if (preset === 'week') {
    const end = dayOf(now);
    return [dayOf(new Date(Date.parse(`${end}T12:00:00Z`) - 7 * 86_400_000)), end];
  }
  if (preset === 'month') return m === 1 ? [iso(y - 1, 12), iso(y, 1)] : [iso(y, m - 1), iso(y, m)];
  const q = Math.floor((m - 1) / 3); // this quarter's index; the report covers the one before
  const startMonth = q === 0 ? 10 : (q - 1) * 3 + 1;
  const startYear = q === 0 ? y - 1 : y;
  return [iso(startYear, startMonth), iso(y, q * 3 + 1)];
}

/** The committee's report: a period, some sites, the figures with charts, a CSV and a printable page (PDF). */
export function ReportsView() {
  useNames();
  const [preset, setPreset] = useState<Preset>('month');
  const [custom, setCustom] = useState<[string, string]>(() => presetDays('month'));
  const [chosen, setChosen] = useState<string[]>([]);
  const sites = useAsync(() => api.sites(), []);
  const [fromDay, toDayExclusive] = preset === 'custom' ? custom : presetDays(preset);
  const query = useMemo(
    () => ({
      from: localInputToIso(`${fromDay}T00:00`) ?? '',
      to: localInputToIso(`${toDayExclusive}T00:00`) ?? '',
      sites: chosen,
    }),
    [fromDay, toDayExclusive, chosen.join(',')],
  );
  const report = useAsync(() => api.report(query), [query]);
  const lastDay = dayOf(new Date(Date.parse(`${toDayExclusive}T12:00:00Z`) - 86_400_000));

  return (
    <section aria-labelledby="reports-title" class="report">
      <h1 id="reports-title">{t('report.title')}</h1>
      <form class="search no-print" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t('report.period')}
          <select value={preset} onChange={(e) => setPreset(e.currentTarget.value as Preset)}>
            {PRESETS.map((p) => (
              <option key={p} value={p}>
                {t(`report.preset.${p}`)}
              </option>
            ))}
          </select>
        </label>
        {preset === 'custom' && (
          <>
            <label>
              {t('common.from')}
              <input type="date" value={custom[0]} onInput={(e) => setCustom([e.currentTarget.value, custom[1]])} />
            </label>
            <label>
              {t('report.toExclusive')}
              <input type="date" value={custom[1]} onInput={(e) => setCustom([custom[0], e.currentTarget.value])} />
            </label>
          </>
        )}
        <label>
          {t('report.sites')}
          <select
            multiple
            size={Math.min(6, Math.max(2, sites.data?.length ?? 2))}
            onChange={(e) => setChosen([...e.currentTarget.selectedOptions].map((o) => o.value))}
          >
            {(sites.data ?? []).map((s) => (
              <option key={s.id} value={s.id} selected={chosen.includes(s.id)} title={s.id}>
                {s.name ?? s.id}
              </option>
            ))}
          </select>
        </label>
        <a class="button" href={api.reportCsvUrl(query)} download>
          {t('report.csv')}
        </a>
        <button type="button" class="primary" onClick={() => window.print()}>
          {t('report.print')}
        </button>
      </form>
      <p class="report-period">
        {t('report.covering', { from: formatDate(fromDay), to: formatDate(lastDay) })}
        {' · '}
        {chosen.length ? chosen.map(siteName).join(', ') : t('report.allSites')}
      </p>
      <ErrorNotice error={report.error} what="GET /reports/summary" />
      <Loading when={report.loading && !report.data}>{report.data && <Figures r={report.data} />}</Loading>
    </section>
  );
}

function Bar({ value, max }: { value: number; max: number }) {
  const pct = max > 0 ? Math.round((100 * value) / max) : 0;
  return (
    <span class="bar" aria-hidden="true">
      <span style={{ width: `${pct}%` }} />
    </span>
  );
}

function Figures({ r }: { r: Report }) {
  const types = [...new Set(r.events.map((e) => e.type))].sort();
  const eventSites = [...new Set(r.events.map((e) => e.site))].sort();
  const count = (site: string, type: string) => r.events.find((e) => e.site === site && e.type === type)?.count ?? 0;
  const siteTotal = (site: string) => r.events.filter((e) => e.site === site).reduce((n, e) => n + e.count, 0);
  const maxTotal = Math.max(0, ...eventSites.map(siteTotal));
  const severities = ['critical', 'warning', 'info'];
  const alertSites = [...new Set(r.alerts.bySeverity.map((a) => a.site))].sort();
  const alertCount = (site: string, sev: string) =>
    r.alerts.bySeverity.find((a) => a.site === site && a.severity === sev)?.count ?? 0;
  const a = r.alerts;
  return (
    <>
      <h2>{t('report.events')}</h2>
      {eventSites.length === 0 ? (
        <p class="muted">{t('common.none')}</p>
      ) : (
        <div class="table-scroll">
          <table class="data">
            <thead>
              <tr>
                <th scope="col">{t('common.site')}</th>
                {types.map((ty) => (
                  <th key={ty} scope="col">
                    {label('type', ty)}
                  </th>
                ))}
                <th scope="col">{t('report.total')}</th>
              </tr>
            </thead>
            <tbody>
              {eventSites.map((s) => (
                <tr key={s}>
                  <th scope="row" title={s}>
                    {siteName(s)}
                  </th>
                  {types.map((ty) => (
                    <td key={ty} class="num">
                      {formatNumber(count(s, ty), 0)}
                    </td>
                  ))}
                  <td class="num">
                    {formatNumber(siteTotal(s), 0)} <Bar value={siteTotal(s)} max={maxTotal} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>{t('report.alerts')}</h2>
      <dl class="figures">
        <div>
          <dt>{t('report.opened')}</dt>
          <dd>{formatNumber(a.opened, 0)}</dd>
        </div>
        <div>
          <dt>{t('report.ackMedian')}</dt>
          <dd>
            {formatDuration(a.ackSeconds.median)} <small>(p90 {formatDuration(a.ackSeconds.p90)})</small>
          </dd>
        </div>
        <div>
          <dt>{t('report.resolveMedian')}</dt>
          <dd>
            {formatDuration(a.resolveSeconds.median)} <small>(p90 {formatDuration(a.resolveSeconds.p90)})</small>
          </dd>
        </div>
        <div>
          <dt>{t('report.falseAlarmShare')}</dt>
          <dd>{a.falseAlarmShare === null ? '—' : formatPercent(100 * a.falseAlarmShare)}</dd>
        </div>
        <div>
          <dt>{t('report.escalated')}</dt>
          <dd>{formatNumber(a.escalated, 0)}</dd>
        </div>
        <div>
          <dt>{t('report.autoResolved')}</dt>
          <dd>{formatNumber(a.autoResolved, 0)}</dd>
        </div>
      </dl>
      {alertSites.length > 0 && (
        <div class="table-scroll">
          <table class="data">
            <thead>
              <tr>
                <th scope="col">{t('common.site')}</th>
                {severities.map((sev) => (
                  <th key={sev} scope="col">
                    {label('severity', sev)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {alertSites.map((s) => (
                <tr key={s}>
                  <th scope="row" title={s}>
                    {siteName(s)}
                  </th>
                  {severities.map((sev) => (
                    <td key={sev} class="num">
                      {formatNumber(alertCount(s, sev), 0)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>{t('report.uptime')}</h2>
      <DataTable columns={['common.site', 'common.camera', 'report.uptimePct', 'report.offlineHours']}>
        {r.uptime.bySite.map((s) => (
          <tr key={s.site}>
            <th scope="row" title={s.site}>
              {siteName(s.site)}
            </th>
            <td class="num">{formatNumber(s.cameras, 0)}</td>
            <td class="num">
              {s.uptimePct === null ? '—' : formatPercent(s.uptimePct)} <Bar value={s.uptimePct ?? 0} max={100} />
            </td>
            <td class="num">{formatNumber(s.offlineHours, 1)}</td>
          </tr>
        ))}
      </DataTable>
      <h3>{t('report.worstCameras')}</h3>
      {r.uptime.worstCameras.length === 0 ? (
        <p class="muted">{t('common.none')}</p>
      ) : (
        <ol class="worst">
          {r.uptime.worstCameras.map((c) => (
            <li key={`${c.site}/${c.camera}`} title={`${c.site}/${c.camera}`}>
              {c.name ?? c.camera} — {siteName(c.site)}: {formatPercent(c.uptimePct)},{' '}
              {t('report.offlineFor', { hours: formatNumber(c.offlineHours, 1) })}
            </li>
          ))}
        </ol>
      )}
    </>
  );
}
