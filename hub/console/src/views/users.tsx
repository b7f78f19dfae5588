import { useState } from 'preact/hooks';
import { api, type ApiError, ROLES, type Role, type UserItem } from '../api.js';
import { ErrorNotice, Loading } from '../components/common.js';
import { DataTable } from '../components/data-table.js';
import { useAsync } from '../hooks.js';
import { label, type MessageKey, t } from '../i18n/index.js';
import { siteName, useNames } from '../names.js';
import { asError, toggle } from './form-helpers.js';

const USERNAME = /^[a-z0-9][a-z0-9._-]{1,63}$/;
const PASSWORD_MIN = 12;

interface UserForm {
  username: string;
  /** New password; empty when editing: unchanged. */
  password: string;
  roles: Role[];
  /** Empty: every site. */
  sites: string[];
}

const EMPTY: UserForm = { username: '', password: '', roles: [], sites: [] };

/** What keeps the form from being sent, as catalogue keys (the hub checks again, password policy included). */
function userProblems(f: UserForm, creating: boolean): MessageKey[] {
  const out: MessageKey[] = [];
  if (creating && !USERNAME.test(f.username)) out.push('users.v.username');
  if ((creating || f.password) && f.password.length < PASSWORD_MIN) out.push('users.v.password');
  if (f.roles.length === 0) out.push('users.v.roles');
  return out;
}

/**
 * People and what they may do: create, change roles and sites, reset a password, lock and unlock. A new password or
 * a lock ends the person's open sessions at once; the hub audits every change (never the password).
 */
export function Users() {
  useNames();
  const users = useAsync(() => api.users(), []);
  const sites = useAsync(() => api.sites(), []);
  const [form, setForm] = useState<UserForm>(EMPTY);
  // The user being edited; null while creating one.
  const [editing, setEditing] = useState<string | null>(null);
  const [problems, setProblems] = useState<MessageKey[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const start = (u: UserItem | null) => {
    setError(null);
    setDone(null);
    setProblems([]);
    setEditing(u?.username ?? null);
    setForm(u ? { username: u.username, password: '', roles: u.roles, sites: u.sites ?? [] } : EMPTY);
  };

  const run = async (what: () => Promise<unknown>, message: string): Promise<boolean> => {
    setError(null);
    setDone(null);
    try {
      await what();
      setDone(message);
      users.reload();
      return true;
    } catch (err) {
      setError(asError(err));
      return false;
    }
  };

  const save = async (e: Event) => {
    e.preventDefault();
    const found = userProblems(form, editing === null);
    setProblems(found);
    if (found.length) return;
    const sitesValue = form.sites.length ? form.sites : null;
    const ok = editing
      ? await run(
          () =>
            api.updateUser(editing, {
              roles: form.roles,
              sites: sitesValue,
              ...(form.password ? { password: form.password } : {}),
            }),
          t(form.password ? 'users.savedWithPassword' : 'users.saved', { user: editing }),
        )
      : await run(
          () =>
            api.createUser({ username: form.username, password: form.password, roles: form.roles, sites: sitesValue }),
          t('admin.userCreated', { user: form.username }),
        );
    if (ok) {
      // Back to a blank "new user" form, keeping the message of what was done.
      setEditing(null);
      setForm(EMPTY);
    }
  };

  return (
    <>
      <ErrorNotice error={users.error} what="GET /users" />
      <Loading when={users.loading && !users.data}>
        {users.data && (
          <DataTable
            columns={['auth.username', 'admin.roles', 'admin.sites', 'common.status']}
            actions="targets.actions"
            testId="users"
          >
            {users.data.map((u) => (
              <tr key={u.id} data-user={u.username} class={u.disabled ? 'muted' : undefined}>
                <td>{u.username}</td>
                <td>{u.roles.map((r) => label('role', r)).join(', ')}</td>
                <td>{u.sites?.map(siteName).join(', ') ?? t('common.all')}</td>
                <td>{u.disabled ? t('admin.disabled') : t('users.active')}</td>
                <td class="actions">
                  <button type="button" onClick={() => start(u)}>
                    {t('admin.edit')}
                  </button>{' '}
                  <button
                    type="button"
                    onClick={() =>
                      void run(
                        () => api.updateUser(u.username, { disabled: !u.disabled }),
                        t(u.disabled ? 'users.enabledDone' : 'users.disabledDone', { user: u.username }),
                      )
                    }
                  >
                    {u.disabled ? t('users.enable') : t('users.disable')}
                  </button>
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </Loading>
      {done && <p role="status">{done}</p>}
      <ErrorNotice error={error} what={editing ? 'PATCH /users/:username' : '/users'} />
      {!users.error?.missingRoute && (
        <form class="search" noValidate onSubmit={(e) => void save(e)} aria-labelledby="user-form-title">
          <h2 id="user-form-title">{editing ? t('users.editTitle', { user: editing }) : t('admin.newUser')}</h2>
          {problems.length > 0 && (
            <div class="notice error wide" role="alert" data-testid="user-problems">
              <p>{t('users.invalid')}</p>
              <ul>
                {problems.map((p) => (
                  <li key={p}>{t(p, { min: PASSWORD_MIN })}</li>
                ))}
              </ul>
            </div>
          )}
          {editing === null && (
            <label>
              {t('auth.username')}
              <input
                autocomplete="off"
                value={form.username}
                onInput={(e) => setForm({ ...form, username: e.currentTarget.value })}
              />
            </label>
          )}
          <label>
            {editing ? t('users.newPassword') : t('auth.password')}
            <input
              type="password"
              autocomplete="new-password"
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
                  onChange={(e) => setForm({ ...form, roles: toggle(form.roles, r, e.currentTarget.checked) })}
                />{' '}
                {label('role', r)}
              </label>
            ))}
          </fieldset>
          <fieldset class="wide">
            <legend>{t('admin.sitesLimit')}</legend>
            {(sites.data ?? []).map((s) => (
              <label key={s.id} class="check" title={s.id}>
                <input
                  type="checkbox"
                  checked={form.sites.includes(s.id)}
                  onChange={(e) => setForm({ ...form, sites: toggle(form.sites, s.id, e.currentTarget.checked) })}
                />{' '}
                {s.name ?? s.id}
              </label>
            ))}
          </fieldset>
          <button type="submit" class="primary">
            {editing ? t('common.save') : t('common.create')}
          </button>
          {editing && (
            <button type="button" onClick={() => start(null)}>
              {t('admin.cancel')}
            </button>
          )}
        </form>
      )}
    </>
  );
}
