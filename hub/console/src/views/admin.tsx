import { useState } from 'preact/hooks';
import { type AlertRule, api, ApiError, ROLES, type Role } from '../api.js';
import { ErrorNotice, Loading, SeverityBadge } from '../components/common.js';
import { useAsync } from '../hooks.js';
import { formatDateTime, formatNumber, label, type MessageKey, t, timeZoneOf } from '../i18n/index.js';
import { placeName, siteName, useNames } from '../names.js';
import { href, type Route } from '../router.js';
import { actorText, auditActionText } from '../words.js';
import { Targets } from './targets.js';

const TABS: { id: string; key: MessageKey }[] = [
  { id: 'users', key: 'admin.users' },
  { id: 'sites', key: 'admin.sites' },
  { id: 'rules', key: 'admin.rules' },
  { id: 'targets', key: 'admin.targets' },
  { id: 'audit', key: 'admin.audit' },
];

/** Administration: users and roles, sites, rules, notification targets, audit log. */
export function AdminView({ route }: { route: Route }) {
  const tab = TABS.find((x) => x.id === route.parts[1]) ?? TABS[0]!;
  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">{t('admin.title')}</h1>
      <nav class="tabs" aria-label={t('admin.title')}>
        {TABS.map((x) => (
          <a key={x.id} href={href(['admin', x.id])} aria-current={x.id === tab.id ? 'page' : undefined}>
            {t(x.key)}
          </a>
        ))}
      </nav>
      {tab.id === 'users' && <Users />}
      {tab.id === 'sites' && <Sites />}
      {tab.id === 'rules' && <Rules />}
      {tab.id === 'targets' && <Targets />}
      {tab.id === 'audit' && <Audit />}
    </section>
  );
}

function Users() {
  const users = useAsync(() => api.users(), []);
  const [form, setForm] = useState({ username: '', password: '', roles: [] as Role[], sites: '' });
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const create = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setDone(null);
    try {
      const sites = form.sites
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      await api.createUser({
        username: form.username,
        password: form.password,
        roles: form.roles,
        sites: sites.length ? sites : null,
      });
      setDone(t('admin.userCreated', { user: form.username }));
      setForm({ username: '', password: '', roles: [], sites: '' });
      users.reload();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'client_error', String(err)));
    }
  };
  return (
    <>
      <ErrorNotice error={users.error} what="GET /users" />
      <Loading when={users.loading && !users.data}>
        {users.data && (
          <table class="data">
            <thead>
              <tr>
                <th scope="col">{t('auth.username')}</th>
                <th scope="col">{t('admin.roles')}</th>
                <th scope="col">{t('admin.sites')}</th>
                <th scope="col">{t('common.status')}</th>
              </tr>
            </thead>
            <tbody>
              {users.data.map((u) => (
                <tr key={u.id}>
                  <td>{u.username}</td>
                  <td>{u.roles.map((r) => label('role', r)).join(', ')}</td>
                  <td>{u.sites?.map(siteName).join(', ') ?? t('common.all')}</td>
                  <td>{u.disabled ? t('admin.disabled') : '✓'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loading>
      {!users.error?.missingRoute && (
        <form class="search" onSubmit={(e) => void create(e)}>
          <h2>{t('admin.newUser')}</h2>
          <label>
            {t('auth.username')}
            <input
              required
              value={form.username}
              onInput={(e) => setForm({ ...form, username: e.currentTarget.value })}
            />
          </label>
          <label>
            {t('auth.password')}
            <input
              required
              type="password"
              autocomplete="new-password"
              minLength={8}
              value={form.password}
              onInput={(e) => setForm({ ...form, password: e.currentTarget.value })}
            />
          </label>
          <fieldset>
            <legend>{t('admin.roles')}</legend>
            {ROLES.map((r) => (
              <label key={r} class="check">
                <input
                  type="checkbox"
                  checked={form.roles.includes(r)}
                  onChange={(e) =>
                    setForm({
                      ...form,
                      roles: e.currentTarget.checked ? [...form.roles, r] : form.roles.filter((x) => x !== r),
                    })
                  }
                />{' '}
                {label('role', r)}
              </label>
            ))}
          </fieldset>
          <label>
            {t('admin.sitesLimit')}
            <input value={form.sites} onInput={(e) => setForm({ ...form, sites: e.currentTarget.value })} />
          </label>
          <button type="submit" class="primary">
            {t('common.create')}
          </button>
          {done && <p role="status">{done}</p>}
          <ErrorNotice error={error} what="POST /users" />
        </form>
      )}
    </>
  );
}

function Sites() {
  const sites = useAsync(() => api.sites(), []);
  return (
    <>
      <ErrorNotice error={sites.error} what="GET /sites" />
      <Loading when={sites.loading && !sites.data}>
        {sites.data && (
          <table class="data">
            <thead>
              <tr>
                <th scope="col">{t('admin.id')}</th>
                <th scope="col">{t('admin.name')}</th>
                <th scope="col">{t('common.camera')}</th>
                <th scope="col">{t('admin.timeZone')}</th>
              </tr>
            </thead>
            <tbody>
              {sites.data.map((s) => (
                <tr key={s.id}>
                  <td>{s.id}</td>
                  <td>{siteName(s.id)}</td>
                  <td class="num">{formatNumber(s.cameras, 0)}</td>
                  <td>{timeZoneOf(s.id)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loading>
    </>
  );
}

/** A rule's trigger in words: its event types (and schedule, threshold) or its health condition. */
function ruleWhat(r: AlertRule): string {
  if (r.kind === 'health') {
    const base = r.condition ? label('admin.condition', r.condition) : '—';
    return r.forSec > 0 ? `${base}, ${t('admin.forSec', { seconds: formatNumber(r.forSec, 0) })}` : base;
  }
  const types = r.eventTypes ? r.eventTypes.map((ty) => label('type', ty)).join(', ') : t('common.all');
  const windows = r.schedule?.windows.map((w) => `${w.start}–${w.end}`).join(', ');
  const threshold = r.threshold ? `≥ ${r.threshold.count} / ${formatNumber(r.threshold.windowSec, 0)} s` : '';
  return [types, windows, threshold].filter(Boolean).join(' · ');
}

function ruleScope(r: AlertRule): string {
  if (r.cameras) return r.cameras.map((ref) => placeName(ref.split('/')[0]!, ref.split('/')[1]!)).join(', ');
  if (r.sites) return r.sites.map(siteName).join(', ');
  return t('admin.everywhere');
}

/** Alert rules, read-only, in words (create and edit them through the API for now). */
function Rules() {
  useNames();
  const rules = useAsync(() => api.rules(), []);
  return (
    <>
      <ErrorNotice error={rules.error} what="GET /alert-rules" />
      <Loading when={rules.loading && !rules.data}>
        {rules.data && (
          <table class="data">
            <thead>
              <tr>
                <th scope="col">{t('admin.name')}</th>
                <th scope="col">{t('admin.kind')}</th>
                <th scope="col">{t('admin.ruleWhat')}</th>
                <th scope="col">{t('alerts.severity')}</th>
                <th scope="col">{t('admin.scope')}</th>
                <th scope="col">{t('admin.cooldown')}</th>
                <th scope="col">{t('admin.enabled')}</th>
              </tr>
            </thead>
            <tbody>
              {rules.data.map((r) => (
                <tr key={r.id} title={r.description ?? undefined}>
                  <td>{r.name}</td>
                  <td>{t(r.kind === 'event' ? 'admin.kind.event' : 'admin.kind.health')}</td>
                  <td>{ruleWhat(r)}</td>
                  <td>
                    <SeverityBadge severity={r.severity} />
                  </td>
                  <td>{ruleScope(r)}</td>
                  <td class="num">{r.kind === 'event' ? formatNumber(r.cooldownSec, 0) : '—'}</td>
                  <td>{r.enabled ? t('admin.on') : t('admin.off')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loading>
    </>
  );
}

function Audit() {
  const audit = useAsync(() => api.audit({ limit: 100 }), []);
  return (
    <>
      <ErrorNotice error={audit.error} what="GET /audit" />
      <Loading when={audit.loading && !audit.data}>
        {audit.data && (
          <table class="data">
            <thead>
              <tr>
                <th scope="col">{t('common.time')}</th>
                <th scope="col">{t('admin.actor')}</th>
                <th scope="col">{t('admin.action')}</th>
                <th scope="col">{t('admin.target')}</th>
              </tr>
            </thead>
            <tbody>
              {audit.data.items.map((a, i) => (
                <tr key={i}>
                  <td>{formatDateTime(a.at)}</td>
                  <td>{actorText(a.actor)}</td>
                  <td title={a.target ? `${a.action} ${a.target}` : a.action} data-action={a.action}>
                    {auditActionText(a)}
                  </td>
                  <td class="break">{a.action === 'api.request' ? '—' : (a.target ?? '—')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loading>
    </>
  );
}
