import { useState } from 'preact/hooks';
import { canOpenAdminTab } from '../access.js';
import { api, ApiError, type Site, type SiteKind } from '../api.js';
import { ErrorNotice, Loading } from '../components/common.js';
import { DataTable } from '../components/data-table.js';
import { useConsole } from '../context.js';
import { useAsync } from '../hooks.js';
import {
  DEFAULT_TIME_ZONE,
  formatDate,
  formatDateTime,
  formatNumber,
  label,
  type MessageKey,
  t,
} from '../i18n/index.js';
import { rememberSites } from '../names.js';
import { href, type Route } from '../router.js';
import { actorText, auditActionText } from '../words.js';
import { Cameras } from './cameras.js';
import { Rules } from './rules.js';
import { Users } from './users.js';
import { Targets } from './targets.js';

const TABS: { id: string; key: MessageKey }[] = [
  { id: 'users', key: 'admin.users' },
  { id: 'sites', key: 'admin.sites' },
  { id: 'cameras', key: 'admin.cameras' },
  { id: 'rules', key: 'admin.rules' },
  { id: 'targets', key: 'admin.targets' },
  { id: 'audit', key: 'admin.audit' },
];

/** Administration: users and roles, sites, rules, notification targets, audit log. */
export function AdminView({ route }: { route: Route }) {
  const { user } = useConsole();
  const tabs = TABS.filter((x) => canOpenAdminTab(user, x.id));
  const tab = tabs.find((x) => x.id === route.parts[1]) ?? tabs[0]!;
  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">{t('admin.title')}</h1>
      <nav class="tabs" aria-label={t('admin.title')}>
        {tabs.map((x) => (
          <a key={x.id} href={href(['admin', x.id])} aria-current={x.id === tab.id ? 'page' : undefined}>
            {t(x.key)}
          </a>
        ))}
      </nav>
      {tab.id === 'users' && <Users />}
      {tab.id === 'sites' && <Sites />}
      {tab.id === 'cameras' && <Cameras />}
      {tab.id === 'rules' && <Rules />}
      {tab.id === 'targets' && <Targets />}
      {tab.id === 'audit' && <Audit />}
    </section>
  );
}

const SITE_KINDS: SiteKind[] = [
  'residential_group',
  'business',
  'school',
  'market',
  'public_place',
  'public_office',
  'other',
];

interface SiteForm {
  id: string;
  name: string;
  kind: SiteKind;
  address: string;
  contactName: string;
  contactPhone: string;
  timeZone: string;
  joinedOn: string;
  notes: string;
  active: boolean;
}

const EMPTY_SITE: SiteForm = {
  id: '',
  name: '',
  kind: 'residential_group',
  address: '',
  contactName: '',
  contactPhone: '',
  timeZone: DEFAULT_TIME_ZONE,
  joinedOn: '',
  notes: '',
  active: true,
};

const formOf = (s: Site): SiteForm => ({
  id: s.id,
  name: s.name ?? '',
  kind: s.kind ?? 'other',
  address: s.address,
  contactName: s.contactName,
  contactPhone: s.contactPhone,
  timeZone: s.timeZone,
  joinedOn: s.joinedOn ?? '',
  notes: s.notes,
  active: s.active,
});

/** The registry of participating units: what each is, who to call, its time zone; register, edit, mark as left. */
function Sites() {
  const sites = useAsync(() => api.sites(), []);
  const [form, setForm] = useState<SiteForm>(EMPTY_SITE);
  // The id of the registered site being edited; null while registering a new one.
  const [editing, setEditing] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const field = (key: keyof SiteForm) => (e: { currentTarget: { value: string } }) =>
    setForm({ ...form, [key]: e.currentTarget.value });
  const start = (s: Site | null) => {
    setError(null);
    setDone(null);
    setEditing(s?.registered ? s.id : null);
    setForm(s ? formOf(s) : EMPTY_SITE);
  };
  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setDone(null);
    const fields = {
      name: form.name,
      kind: form.kind,
      address: form.address,
      contactName: form.contactName,
      contactPhone: form.contactPhone,
      timeZone: form.timeZone,
      joinedOn: form.joinedOn || null,
      notes: form.notes,
      active: form.active,
    };
    try {
      const saved = editing ? await api.updateSite(editing, fields) : await api.createSite({ id: form.id, ...fields });
      rememberSites([saved]);
      start(null);
      setDone(t('admin.siteSaved', { site: saved.name ?? saved.id }));
      sites.reload();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'client_error', String(err)));
    }
  };
  return (
    <>
      <ErrorNotice error={sites.error} what="GET /sites" />
      <Loading when={sites.loading && !sites.data}>
        {sites.data && (
          <DataTable
            columns={[
              'admin.siteName',
              'admin.siteKind',
              'admin.address',
              'admin.contact',
              'common.camera',
              'admin.timeZone',
              'admin.joinedOn',
              'common.status',
            ]}
            actions="admin.edit"
          >
            {sites.data.map((s) => (
              <tr key={s.id} class={s.active ? undefined : 'muted'}>
                <td title={s.id}>{s.name ?? s.id}</td>
                <td>{s.kind ? label('siteKind', s.kind) : '—'}</td>
                <td>{s.address || '—'}</td>
                <td>
                  {s.contactName || '—'}
                  {s.contactPhone && (
                    <>
                      <br />
                      <a href={`tel:${s.contactPhone.replace(/[^0-9+]/g, '')}`}>{s.contactPhone}</a>
                    </>
                  )}
                </td>
                <td class="num">
                  {t('admin.camerasOnline', {
                    online: formatNumber(s.cameras.online, 0),
                    total: formatNumber(s.cameras.total, 0),
                  })}
                </td>
                <td>{s.timeZone}</td>
                <td>{formatDate(s.joinedOn)}</td>
                <td>{!s.registered ? t('admin.unregistered') : s.active ? t('admin.active') : t('admin.inactive')}</td>
                <td>
                  <button type="button" onClick={() => start(s)}>
                    {s.registered ? t('admin.edit') : t('admin.register')}
                  </button>
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </Loading>
      {!sites.error?.missingRoute && (
        <form class="search" onSubmit={(e) => void save(e)} aria-labelledby="site-form-title">
          <h2 id="site-form-title">
            {editing ? t('admin.editSite', { site: form.name || editing }) : t('admin.newSite')}
          </h2>
          <label>
            {t('admin.siteId')}
            <input
              required
              disabled={editing !== null}
              pattern="[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}"
              title={t('admin.siteIdHint')}
              value={form.id}
              onInput={field('id')}
            />
          </label>
          <label>
            {t('admin.siteName')}
            <input required maxLength={120} value={form.name} onInput={field('name')} />
          </label>
          <label>
            {t('admin.siteKind')}
            <select value={form.kind} onChange={(e) => setForm({ ...form, kind: e.currentTarget.value as SiteKind })}>
              {SITE_KINDS.map((k) => (
                <option key={k} value={k}>
                  {label('siteKind', k)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('admin.address')}
            <input maxLength={300} value={form.address} onInput={field('address')} />
          </label>
          <label>
            {t('admin.contact')}
            <input maxLength={120} value={form.contactName} onInput={field('contactName')} />
          </label>
          <label>
            {t('admin.phone')}
            <input type="tel" maxLength={32} value={form.contactPhone} onInput={field('contactPhone')} />
          </label>
          <label>
            {t('admin.timeZone')}
            <input required maxLength={64} value={form.timeZone} onInput={field('timeZone')} />
          </label>
          <label>
            {t('admin.joinedOn')}
            <input type="date" value={form.joinedOn} onInput={field('joinedOn')} />
          </label>
          <label>
            {t('admin.notes')}
            <textarea maxLength={2000} value={form.notes} onInput={field('notes')} />
          </label>
          <label class="check">
            <input
              type="checkbox"
              checked={form.active}
              onChange={(e) => setForm({ ...form, active: e.currentTarget.checked })}
            />{' '}
            {t('admin.active')}
          </label>
          <button type="submit" class="primary">
            {editing ? t('common.save') : t('admin.register')}
          </button>
          {(editing !== null || form.id !== '') && (
            <button type="button" onClick={() => start(null)}>
              {t('admin.cancel')}
            </button>
          )}
          {done && <p role="status">{done}</p>}
          <ErrorNotice error={error} what={editing ? 'PATCH /sites' : 'POST /sites'} />
        </form>
      )}
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
          <DataTable columns={['common.time', 'admin.actor', 'admin.action', 'admin.target']}>
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
          </DataTable>
        )}
      </Loading>
    </>
  );
}
