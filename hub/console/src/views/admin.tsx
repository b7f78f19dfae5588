import { useState } from 'preact/hooks';
import { api, ApiError, ROLES, type Role } from '../api.js';
import { ErrorNotice, Loading } from '../components/common.js';
import { useAsync } from '../hooks.js';
import { formatDateTime, formatNumber, label, type MessageKey, t, timeZoneOf } from '../i18n/index.js';
import { href, type Route } from '../router.js';
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
      {tab.id === 'rules' && <Generic load={api.rules} what="GET /rules" />}
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
                  <td>{u.sites?.join(', ') ?? t('common.all')}</td>
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
                <th scope="col">ID</th>
                <th scope="col">{t('common.camera')}</th>
                <th scope="col">{t('admin.timeZone')}</th>
              </tr>
            </thead>
            <tbody>
              {sites.data.map((s) => (
                <tr key={s.id}>
                  <td>{s.id}</td>
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

/** Rules: shown as they come (their editors belong with the alerting API once it settles). */
function Generic({ load, what }: { load: () => Promise<Record<string, unknown>[]>; what: string }) {
  const rows = useAsync(load, [load]);
  const columns = [...new Set((rows.data ?? []).flatMap((r) => Object.keys(r)))].slice(0, 8);
  const cell = (v: unknown) =>
    v === null || v === undefined ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return (
    <>
      <ErrorNotice error={rows.error} what={what} />
      <Loading when={rows.loading && !rows.data}>
        {rows.data &&
          (rows.data.length === 0 ? (
            <p class="muted">{t('common.none')}</p>
          ) : (
            <table class="data">
              <thead>
                <tr>
                  {columns.map((c) => (
                    <th key={c} scope="col">
                      {c}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.data.map((r, i) => (
                  <tr key={String(r.id ?? i)}>
                    {columns.map((c) => (
                      <td key={c}>{cell(r[c])}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          ))}
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
                  <td>{a.actor ?? '—'}</td>
                  <td>{a.action}</td>
                  <td>{a.target ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loading>
    </>
  );
}
