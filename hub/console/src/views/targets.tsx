import { useState } from 'preact/hooks';
import { api, ApiError, type Target, type TargetInput } from '../api.js';
import { ErrorNotice, Loading } from '../components/common.js';
import { DataTable } from '../components/data-table.js';
import { useAsync } from '../hooks.js';
import { formatDateTime, label, type MessageKey, t } from '../i18n/index.js';
import { siteName, useNames } from '../names.js';

/** Why a target failed, in the reader's words: the hub sends a code and its parameters (DELIVERY_FAILURES). */
function failureText(code: string | null | undefined, params: Record<string, string | number> | null | undefined) {
  const key = `targets.failure.${code ?? 'unexpected'}` as MessageKey;
  return t(key in FAILURE_KEYS ? key : 'targets.failure.unexpected', params ?? {});
}
const FAILURE_KEYS: Record<string, true> = Object.fromEntries(
  [
    'unreachable',
    'http_status',
    'address_refused',
    'rate_limited',
    'service_refused',
    'chat_moved',
    'token_expired',
    'token_refresh_refused',
    'smtp_temporary',
    'smtp_permanent',
    'smtp_auth',
    'smtp_message_refused',
    'target_failing',
    'target_removed',
    'unknown_channel',
    'unexpected',
  ].map((c) => [`targets.failure.${c}`, true]),
);

type Channel = 'telegram' | 'zalo' | 'email' | 'webhook';
const CHANNELS: Channel[] = ['telegram', 'zalo', 'email', 'webhook'];

interface Field {
  key: string;
  secret?: boolean;
  kind?: 'number' | 'list' | 'select';
  options?: string[];
  /** Shown only when another field has one of these values (Zalo's mode). */
  when?: { key: string; values: string[] };
}

/** Each channel's settings as the hub's channel modules check them (hub/src/notify/*.channel.ts). */
const FIELDS: Record<Channel, Field[]> = {
  telegram: [{ key: 'botToken', secret: true }, { key: 'chatId' }],
  zalo: [
    { key: 'appId' },
    { key: 'appSecret', secret: true },
    { key: 'accessToken', secret: true },
    { key: 'refreshToken', secret: true },
    { key: 'mode', kind: 'select', options: ['users', 'followers', 'zns'] },
    { key: 'userIds', kind: 'list', when: { key: 'mode', values: ['users'] } },
    { key: 'phones', kind: 'list', when: { key: 'mode', values: ['zns'] } },
    { key: 'templateId', when: { key: 'mode', values: ['zns'] } },
  ],
  email: [
    { key: 'host' },
    { key: 'port', kind: 'number' },
    { key: 'security', kind: 'select', options: ['starttls', 'tls', 'none'] },
    { key: 'username' },
    { key: 'password', secret: true },
    { key: 'from' },
    { key: 'to', kind: 'list' },
  ],
  webhook: [{ key: 'url' }, { key: 'secret', secret: true }],
};

type Form = Record<string, string>;

const EMPTY: Form = {
  channel: 'telegram',
  name: '',
  sites: '',
  minSeverity: 'info',
  language: 'vi',
  quietStart: '',
  quietEnd: '',
  rateCount: '',
  rateWindow: '',
  escalateTo: '',
  mode: 'users',
  security: 'starttls',
};

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

function formOf(target: Target): Form {
  const f: Form = {
    ...EMPTY,
    channel: target.channel,
    name: target.name,
    sites: target.siteIds?.join(', ') ?? '',
    minSeverity: target.minSeverity,
    language: target.language,
    quietStart: target.quietHours?.windows[0]?.start ?? '',
    quietEnd: target.quietHours?.windows[0]?.end ?? '',
    rateCount: target.rateLimit ? String(target.rateLimit.count) : '',
    rateWindow: target.rateLimit ? String(target.rateLimit.windowSec) : '',
    escalateTo: target.escalateTo ?? '',
  };
  for (const [k, v] of Object.entries(target.config)) f[k] = Array.isArray(v) ? v.join(', ') : String(v ?? '');
  return f;
}

/** The request body; secrets left blank are not sent, so the hub keeps the stored ones. */
function bodyOf(f: Form): TargetInput {
  const channel = f.channel as Channel;
  const config: Record<string, unknown> = {};
  for (const field of FIELDS[channel]) {
    if (field.when && !field.when.values.includes(f[field.when.key] ?? '')) continue;
    const v = (f[field.key] ?? '').trim();
    if (v === '') continue;
    config[field.key] = field.kind === 'list' ? list(v) : field.kind === 'number' ? Number(v) : v;
  }
  const sites = list(f.sites ?? '');
  return {
    channel,
    name: f.name!.trim(),
    siteIds: sites.length ? sites : null,
    minSeverity: f.minSeverity as TargetInput['minSeverity'],
    language: f.language as 'vi' | 'en',
    quietHours: f.quietStart && f.quietEnd ? { windows: [{ start: f.quietStart, end: f.quietEnd }] } : null,
    rateLimit: f.rateCount && f.rateWindow ? { count: Number(f.rateCount), windowSec: Number(f.rateWindow) } : null,
    escalateTo: f.escalateTo || null,
    config,
  };
}

/** One setting's input: secrets as passwords (blank keeps a stored one), numbers, text. */
function FieldInput(p: { field: Field; value: string; stored: boolean; onInput: (e: Event) => void }) {
  if (p.field.secret) {
    return (
      <input
        type="password"
        autocomplete="new-password"
        required={!p.stored}
        placeholder={p.stored ? t('targets.secretKept') : ''}
        value={p.value}
        onInput={p.onInput}
      />
    );
  }
  if (p.field.kind === 'number') return <input type="number" required value={p.value} onInput={p.onInput} />;
  return (
    <input
      type="text"
      required={p.field.key !== 'username'}
      placeholder={p.field.kind === 'list' ? t('targets.listHint') : ''}
      value={p.value}
      onInput={p.onInput}
    />
  );
}

const fieldLabel = (key: string) => t(`targets.field.${key}` as MessageKey);

/** Notification targets: Telegram, Zalo, e-mail and webhooks, each with a "send a test" button (admins only). */
export function Targets() {
  const targets = useAsync(() => api.targets(), []);
  // Sites by their names: a target is limited to sites chosen in a list, never typed as ids.
  const sites = useAsync(() => api.sites(), []);
  const [form, setForm] = useState<Form>(EMPTY);
  const [editing, setEditing] = useState<Target | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [tests, setTests] = useState<
    Record<string, { ok: boolean; code: string | null; params: Record<string, string | number> | null } | 'sending'>
  >({});
  useNames();

  const fail = (err: unknown) => setError(err instanceof ApiError ? err : new ApiError(0, 'client_error', String(err)));
  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setDone(null);
    try {
      const body = bodyOf(form);
      if (editing) {
        const { channel: _channel, ...patch } = body;
        await api.updateTarget(editing.id, patch);
      } else await api.createTarget(body);
      setDone(t('targets.saved', { name: body.name }));
      setEditing(null);
      setForm(EMPTY);
      targets.reload();
    } catch (err) {
      fail(err);
    }
  };
  const test = async (id: string) => {
    setTests((s) => ({ ...s, [id]: 'sending' }));
    try {
      const r = await api.testTarget(id);
      setTests((s) => ({ ...s, [id]: r }));
      targets.reload();
    } catch (err) {
      // The request itself failed (hub out of reach, session ended): no code from a channel to word.
      const code = err instanceof ApiError && err.status === 0 ? 'unreachable' : 'unexpected';
      setTests((s) => ({ ...s, [id]: { ok: false, code, params: null } }));
    }
  };
  const remove = async (target: Target) => {
    if (!confirm(t('targets.confirmDelete', { name: target.name }))) return;
    try {
      await api.deleteTarget(target.id);
      targets.reload();
    } catch (err) {
      fail(err);
    }
  };
  const set = (key: string) => (e: Event) => setForm({ ...form, [key]: (e.currentTarget as HTMLInputElement).value });
  const channel = form.channel as Channel;
  const names = new Map((targets.data ?? []).map((x) => [x.id, x.name]));

  return (
    <>
      <p class="muted">{t('targets.intro')}</p>
      <ErrorNotice error={targets.error} what="GET /notification-targets" />
      <Loading when={targets.loading && !targets.data}>
        {targets.data &&
          (targets.data.length === 0 ? (
            <p class="muted">{t('common.none')}</p>
          ) : (
            <DataTable
              columns={[
                'admin.name',
                'targets.channel',
                'admin.sites',
                'targets.minSeverity',
                'targets.rules',
                'common.status',
                'targets.actions',
              ]}
            >
              {targets.data.map((x) => {
                const result = tests[x.id];
                return (
                  <tr key={x.id}>
                    <td>{x.name}</td>
                    <td>{t(`targets.channel.${x.channel}` as MessageKey)}</td>
                    <td>{x.siteIds?.map(siteName).join(', ') ?? t('common.all')}</td>
                    <td>{label('severity', x.minSeverity)}</td>
                    <td>
                      {[
                        x.language === 'en' ? t('targets.english') : null,
                        x.quietHours
                          ? t('targets.quietSummary', {
                              start: x.quietHours.windows[0]?.start ?? '',
                              end: x.quietHours.windows[0]?.end ?? '',
                            })
                          : null,
                        x.rateLimit
                          ? t('targets.rateSummary', { count: x.rateLimit.count, sec: x.rateLimit.windowSec })
                          : null,
                        x.escalateTo
                          ? t('targets.escalateSummary', { name: names.get(x.escalateTo) ?? x.escalateTo })
                          : null,
                        x.enabled ? null : t('targets.disabled'),
                      ]
                        .filter(Boolean)
                        .join(' · ') || '—'}
                    </td>
                    <td>
                      {x.failing ? (
                        <span class="badge status-offline">
                          {t('targets.failing', { since: x.failingSince ? formatDateTime(x.failingSince) : '' })}
                        </span>
                      ) : (
                        <span class="badge status-online">{t('targets.ok')}</span>
                      )}
                      {x.failing && (x.lastFailureCode || x.lastFailure) && (
                        <div class="muted">{failureText(x.lastFailureCode, x.lastFailureParams)}</div>
                      )}
                    </td>
                    <td>
                      <button type="button" onClick={() => void test(x.id)} disabled={result === 'sending'}>
                        {t('targets.test')}
                      </button>{' '}
                      <button
                        type="button"
                        onClick={() => {
                          setEditing(x);
                          setForm(formOf(x));
                          setDone(null);
                        }}
                      >
                        {t('targets.edit')}
                      </button>{' '}
                      <button type="button" onClick={() => void remove(x)}>
                        {t('targets.delete')}
                      </button>
                      {result && (
                        <p role="status">
                          {result === 'sending'
                            ? t('targets.testSending')
                            : result.ok
                              ? t('targets.testOk')
                              : t('targets.testFailed', { error: failureText(result.code, result.params) })}
                        </p>
                      )}
                    </td>
                  </tr>
                );
              })}
            </DataTable>
          ))}
      </Loading>

      <form class="search" onSubmit={(e) => void save(e)}>
        <h2>{editing ? t('targets.editTitle', { name: editing.name }) : t('targets.new')}</h2>
        <label>
          {t('targets.channel')}
          <select value={form.channel} disabled={!!editing} onChange={set('channel')}>
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {t(`targets.channel.${c}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('admin.name')}
          <input required maxLength={200} value={form.name} onInput={set('name')} />
        </label>
        {FIELDS[channel]
          .filter((f) => !f.when || f.when.values.includes(form[f.when.key] ?? ''))
          .map((f) => (
            <label key={f.key}>
              {fieldLabel(f.key)}
              {f.kind === 'select' ? (
                <select value={form[f.key] ?? ''} onChange={set(f.key)}>
                  {f.options!.map((o) => (
                    <option key={o} value={o}>
                      {t(`targets.option.${o}` as MessageKey)}
                    </option>
                  ))}
                </select>
              ) : (
                <FieldInput
                  field={f}
                  value={form[f.key] ?? ''}
                  stored={!!editing?.secretsSet.includes(f.key)}
                  onInput={set(f.key)}
                />
              )}
            </label>
          ))}
        <fieldset class="wide">
          <legend>{t('admin.sitesLimit')}</legend>
          {(sites.data ?? []).map((x) => {
            const chosen = list(form.sites ?? '');
            return (
              <label key={x.id} class="check" title={x.id}>
                <input
                  type="checkbox"
                  checked={chosen.includes(x.id)}
                  onChange={(e) =>
                    setForm({
                      ...form,
                      sites: (e.currentTarget.checked ? [...chosen, x.id] : chosen.filter((id) => id !== x.id)).join(
                        ', ',
                      ),
                    })
                  }
                />{' '}
                {x.name ?? x.id}
              </label>
            );
          })}
        </fieldset>
        <label>
          {t('targets.minSeverity')}
          <select value={form.minSeverity} onChange={set('minSeverity')}>
            {['info', 'warning', 'critical'].map((s) => (
              <option key={s} value={s}>
                {label('severity', s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('targets.language')}
          <select value={form.language} onChange={set('language')}>
            <option value="vi">Tiếng Việt</option>
            <option value="en">English</option>
          </select>
        </label>
        <fieldset>
          <legend>{t('targets.quietHours')}</legend>
          <p class="muted">{t('targets.quietHint')}</p>
          <label>
            {t('common.from')}
            <input type="time" value={form.quietStart} onInput={set('quietStart')} />
          </label>
          <label>
            {t('common.to')}
            <input type="time" value={form.quietEnd} onInput={set('quietEnd')} />
          </label>
        </fieldset>
        <fieldset>
          <legend>{t('targets.rateLimit')}</legend>
          <p class="muted">{t('targets.rateHint')}</p>
          <label>
            {t('targets.rateCount')}
            <input type="number" min={1} max={1000} value={form.rateCount} onInput={set('rateCount')} />
          </label>
          <label>
            {t('targets.rateWindow')}
            <input type="number" min={1} max={86400} value={form.rateWindow} onInput={set('rateWindow')} />
          </label>
        </fieldset>
        <label>
          {t('targets.escalateTo')}
          <select value={form.escalateTo} onChange={set('escalateTo')}>
            <option value="">—</option>
            {(targets.data ?? [])
              .filter((x) => x.id !== editing?.id)
              .map((x) => (
                <option key={x.id} value={x.id}>
                  {x.name}
                </option>
              ))}
          </select>
        </label>
        <button type="submit" class="primary">
          {editing ? t('common.save') : t('common.create')}
        </button>
        {editing && (
          <button
            type="button"
            onClick={() => {
              setEditing(null);
              setForm(EMPTY);
            }}
          >
            {t('targets.cancel')}
          </button>
        )}
        {done && <p role="status">{done}</p>}
        <ErrorNotice error={error} what={editing ? 'PATCH /notification-targets' : 'POST /notification-targets'} />
      </form>
    </>
  );
}
