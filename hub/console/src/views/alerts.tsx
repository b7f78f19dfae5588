import { useEffect, useState } from 'preact/hooks';
import { type Alert, api, ApiError, SEVERITY_ORDER } from '../api.js';
import { ErrorNotice, Loading, Place, SeverityBadge } from '../components/common.js';
import { useConsole } from '../context.js';
import { useAsync } from '../hooks.js';
import { formatDateTime, formatNumber, label, t } from '../i18n/index.js';
import { useNames } from '../names.js';
import { href, navigate, type Route } from '../router.js';
import { actorText, alertTitle, alertWhat, historyDetail } from '../words.js';
import { EventGrid } from './camera.js';

const STATE_ORDER: Record<string, number> = {
  open: 0,
  acknowledged: 1,
  resolved: 2,
  auto_resolved: 3,
  false_alarm: 4,
};
const ACTIVE = new Set(['open', 'acknowledged']);

export function sortAlerts(list: Alert[]): Alert[] {
  return [...list].sort(
    (a, b) =>
      (STATE_ORDER[a.state] ?? 9) - (STATE_ORDER[b.state] ?? 9) ||
      (SEVERITY_ORDER[a.severity] ?? 9) - (SEVERITY_ORDER[b.severity] ?? 9) ||
      b.openedAt.localeCompare(a.openedAt),
  );
}

/** Alerts for operators and the committee: open first by severity; act on one at a time. */
export function AlertsView({ route }: { route: Route }) {
  const { live } = useConsole();
  useNames();
  const selected = route.parts[1] ?? null;
  const showAll = route.query.get('show') === 'all';
  const alerts = useAsync(() => api.alerts(), [], 10_000);
  useEffect(() => live.subscribe((m) => (m.kind === 'alert' || m.kind === 'resync') && alerts.reload()), [live]);
  const list = sortAlerts((alerts.data ?? []).filter((a) => showAll || ACTIVE.has(a.state)));
  return (
    <section aria-labelledby="alerts-title" class="alerts-view">
      <div class="toolbar">
        <h1 id="alerts-title">{t('alerts.title')}</h1>
        <fieldset class="grid-choice">
          <legend class="sr-only">{t('common.status')}</legend>
          <button type="button" aria-pressed={!showAll} onClick={() => navigate(route.parts, {})}>
            {t('alerts.filter.active')}
          </button>
          <button type="button" aria-pressed={showAll} onClick={() => navigate(route.parts, { show: 'all' })}>
            {t('alerts.filter.all')}
          </button>
        </fieldset>
        <span class="muted small">{t('alerts.openFirst')}</span>
      </div>
      <ErrorNotice error={alerts.error} what="GET /alerts" />
      <div class="split">
        <Loading when={alerts.loading && !alerts.data}>
          {list.length === 0 ? (
            <p class="muted">{t('alerts.none')}</p>
          ) : (
            <ul class="alert-list">
              {list.map((a) => (
                <li key={a.id} class={`alert-item status-${a.state}`} data-alert={a.id}>
                  <a
                    href={href(['alerts', a.id], showAll ? { show: 'all' } : {})}
                    aria-current={a.id === selected ? 'true' : undefined}
                  >
                    <SeverityBadge severity={a.severity} /> <strong>{alertWhat(a)}</strong>
                    <br />
                    <span class="small muted">
                      <Place site={a.site} camera={a.camera} /> · {formatDateTime(a.openedAt, a.site)} ·{' '}
                      {label('alertStatus', a.state)}
                      {a.assignee ? ` · ${a.assignee}` : ''}
                    </span>
                  </a>
                </li>
              ))}
            </ul>
          )}
        </Loading>
        <div class="detail">
          {selected ? (
            <AlertDetail id={selected} onChanged={alerts.reload} />
          ) : (
            <p class="muted">{t('alerts.select')}</p>
          )}
        </div>
      </div>
    </section>
  );
}

function AlertDetail({ id, onChanged }: { id: string; onChanged: () => void }) {
  const { live } = useConsole();
  const alert = useAsync(() => api.alert(id), [id]);
  useEffect(
    () =>
      live.subscribe((m) => {
        if ((m.kind === 'alert' && m.alert.id === id) || m.kind === 'resync') alert.reload();
      }),
    [live, id],
  );
  const a = alert.data;
  const [assignee, setAssignee] = useState('');
  const [comment, setComment] = useState('');
  const [actionError, setActionError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const act = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setActionError(null);
    try {
      await fn();
      alert.reload();
      onChanged();
    } catch (err) {
      setActionError(err instanceof ApiError ? err : new ApiError(0, 'client_error', String(err)));
    } finally {
      setBusy(false);
    }
  };
  if (!a)
    return (
      <>
        <ErrorNotice error={alert.error} what={`GET /alerts/${id}`} />
        <Loading when={alert.loading} />
      </>
    );
  const active = ACTIVE.has(a.state);
  return (
    <article aria-labelledby="alert-title" data-status={a.state} data-alert={a.id}>
      <h2 id="alert-title">
        <SeverityBadge severity={a.severity} /> {alertTitle(a)}
      </h2>
      <dl class="facts">
        <dt>{t('common.status')}</dt>
        <dd class="alert-status">{label('alertStatus', a.state)}</dd>
        <dt>{t('common.camera')}</dt>
        <dd>
          {a.camera ? (
            <a href={href(['camera', a.site, a.camera])}>
              <Place site={a.site} camera={a.camera} />
            </a>
          ) : (
            <Place site={a.site} />
          )}
        </dd>
        <dt>{t('alerts.rule')}</dt>
        <dd>{a.ruleName}</dd>
        <dt>{t('alerts.eventCount')}</dt>
        <dd>{formatNumber(a.eventCount, 0)}</dd>
        <dt>{t('alerts.opened')}</dt>
        <dd>{formatDateTime(a.openedAt, a.site)}</dd>
        <dt>{t('alerts.assignee')}</dt>
        <dd>{a.assignee ?? t('alerts.unassigned')}</dd>
        {a.resolvedAt && (
          <>
            <dt>{label('alertStatus', a.state)}</dt>
            <dd>
              {formatDateTime(a.resolvedAt, a.site)} · {actorText(a.resolvedBy)}
            </dd>
          </>
        )}
      </dl>
      <div class="actions">
        {a.status === 'open' && (
          <button type="button" class="primary" disabled={busy} onClick={() => void act(() => api.acknowledge(a.id))}>
            {t('alerts.ack')}
          </button>
        )}
        {active && (
          <>
            <button
              type="button"
              disabled={busy}
              onClick={() => void act(() => api.resolve(a.id, comment || undefined))}
            >
              {t('alerts.resolve')}
            </button>
            <button
              type="button"
              disabled={busy}
              onClick={() => void act(() => api.falseAlarm(a.id, comment || undefined))}
            >
              {t('alerts.falseAlarm')}
            </button>
          </>
        )}
      </div>
      {active && (
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            if (assignee.trim()) void act(() => api.assign(a.id, assignee.trim()));
          }}
        >
          <label>
            {t('alerts.assignTo')} <input value={assignee} onInput={(e) => setAssignee(e.currentTarget.value)} />
          </label>
          <button type="submit" disabled={busy}>
            {t('alerts.assign')}
          </button>
        </form>
      )}
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          if (comment.trim()) void act(() => api.comment(a.id, comment.trim()).then(() => setComment('')));
        }}
      >
        <label>
          {t('alerts.comment')} <textarea rows={2} value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={busy}>
          {t('alerts.addComment')}
        </button>
      </form>
      <ErrorNotice error={actionError} what="POST /alerts/:id/…" />
      <h3>{t('alerts.events')}</h3>
      <EventGrid items={a.events.slice(0, 24)} />
      <h3>{t('alerts.history')}</h3>
      {a.history.length === 0 ? (
        <p class="muted">{t('common.none')}</p>
      ) : (
        <ol class="history">
          {a.history.map((h, i) => (
            <li key={i}>
              <time dateTime={h.at}>{formatDateTime(h.at, a.site)}</time> <strong>{actorText(h.actor)}</strong>{' '}
              {label('alertAction', h.action)}
              {historyDetail(h, a.site) ? `: ${historyDetail(h, a.site)}` : ''}
            </li>
          ))}
        </ol>
      )}
    </article>
  );
}
