import { useState } from 'preact/hooks';
import { api, type ApiError, type CameraPatch, type DiscoveredCamera, type RegistryCamera } from '../api.js';
import { ErrorNotice, Loading } from '../components/common.js';
import { DataTable } from '../components/data-table.js';
import { useAsync } from '../hooks.js';
import { formatDateTime, label, t } from '../i18n/index.js';
import { siteName, useNames } from '../names.js';
import { cameraProblems } from './camera-form.js';
import type { Problem } from './rule-form.js';
import { asError, FormProblems } from './form-helpers.js';

/** A free camera id for a discovered camera: from its ONVIF name when it has one, else cam-N. */
function suggestId(d: DiscoveredCamera, taken: string[]): string {
  const base =
    (d.name ?? '')
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/đ/gi, 'd')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'cam';
  let id = base;
  for (let i = 2; taken.includes(id); i++) id = `${base}-${i}`;
  return id;
}

/** host and port of a discovered camera's first usable XAddr. */
function address(d: DiscoveredCamera): { host: string; port: number } | null {
  for (const x of d.xaddrs) {
    try {
      const u = new URL(x);
      return { host: u.hostname, port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)) };
    } catch {
      // An XAddr that is no URL: try the next one.
      continue;
    }
  }
  return null;
}

interface AdoptForm {
  /** The WS-Discovery endpoint it was found as; empty for a camera added by its address. */
  endpoint: string;
  id: string;
  name: string;
  location: string;
  host: string;
  port: string;
  username: string;
  password: string;
}

interface EditForm {
  camera: string;
  name: string;
  location: string;
  /** An adopted camera's connection (the hub holds it); null for a camera of the agent's YAML. */
  connection: {
    host: string;
    port: string;
    username: string;
    /** A new password; empty: unchanged (the old one is never shown). */
    password: string;
    was: { host: string; port: number; username: string };
  } | null;
}

/**
 * A site's cameras from the console, without touching its edge box: names and places, what the agent runs, cameras
 * it discovered to adopt (credentials entered once, never shown again), disable, enable, remove.
 */
export function Cameras() {
  useNames();
  const sites = useAsync(() => api.sites(), []);
  const [site, setSite] = useState<string>('');
  const chosen = site || sites.data?.[0]?.id || '';
  const registry = useAsync(() => (chosen ? api.siteCameras(chosen) : Promise.resolve(null)), [chosen]);
  const [adopt, setAdopt] = useState<AdoptForm | null>(null);
  const [edit, setEdit] = useState<EditForm | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [problems, setProblems] = useState<Problem[]>([]);

  const run = async (what: () => Promise<unknown>, message: string) => {
    setError(null);
    setDone(null);
    try {
      await what();
      setDone(message);
      registry.reload();
      return true;
    } catch (err) {
      setError(asError(err));
      return false;
    }
  };

  const startAdopt = (d: DiscoveredCamera) => {
    const a = address(d);
    setEdit(null);
    setProblems([]);
    setAdopt({
      endpoint: d.endpoint,
      id: suggestId(d, registry.data?.cameras.map((c) => c.camera) ?? []),
      name: d.name ?? '',
      location: '',
      host: a?.host ?? '',
      port: String(a?.port ?? 80),
      username: '',
      password: '',
    });
  };

  /** A camera WS-Discovery cannot see (another subnet, discovery off): added by its address. */
  const startManual = () => {
    setEdit(null);
    setProblems([]);
    setAdopt({
      endpoint: '',
      id: '',
      name: '',
      location: '',
      host: '',
      port: '80',
      username: '',
      password: '',
    });
  };

  const submitAdopt = async (e: Event) => {
    e.preventDefault();
    if (!adopt) return;
    const found = cameraProblems({
      id: adopt.id,
      name: adopt.name,
      location: adopt.location,
      connection: { ...adopt, passwordRequired: true },
    });
    setProblems(found);
    if (found.length > 0) return;
    const ok = await run(
      () =>
        api.adoptCamera(chosen, {
          id: adopt.id,
          name: adopt.name,
          location: adopt.location,
          host: adopt.host,
          port: Number(adopt.port),
          username: adopt.username,
          password: adopt.password,
          ...(adopt.endpoint ? { endpoint: adopt.endpoint } : {}),
        }),
      t('cameras.adopted', { camera: adopt.name }),
    );
    if (ok) setAdopt(null);
  };

  const submitEdit = async (e: Event) => {
    e.preventDefault();
    if (!edit) return;
    const found = cameraProblems({
      name: edit.name,
      location: edit.location,
      ...(edit.connection ? { connection: { ...edit.connection, passwordRequired: false } } : {}),
    });
    setProblems(found);
    if (found.length > 0) return;
    const changes: CameraPatch = { name: edit.name, location: edit.location };
    // The connection of a camera the hub holds: only what changed, the password only when a new one is typed.
    if (edit.connection) {
      const c = edit.connection;
      if (c.host !== c.was.host) changes.host = c.host;
      if (Number(c.port) !== c.was.port) changes.port = Number(c.port);
      if (c.username !== c.was.username) changes.username = c.username;
      if (c.password) changes.password = c.password;
    }
    const ok = await run(
      () => api.updateCamera(chosen, edit.camera, changes),
      t('cameras.saved', { camera: edit.name }),
    );
    if (ok) setEdit(null);
  };

  const data = registry.data;
  return (
    <>
      <ErrorNotice error={sites.error} what="GET /sites" />
      <label>
        {t('common.site')}{' '}
        <select value={chosen} onChange={(e) => setSite(e.currentTarget.value)} data-testid="cameras-site">
          {(sites.data ?? []).map((s) => (
            <option key={s.id} value={s.id}>
              {s.name ?? s.id}
            </option>
          ))}
        </select>
      </label>
      <ErrorNotice error={registry.error} what="GET /sites/:site/cameras" />
      <Loading when={registry.loading && !data}>
        {data && (
          <>
            <p class="small muted" data-testid="config-version">
              {data.version === null
                ? t('cameras.localOnly')
                : t('cameras.version', {
                    wanted: String(data.version),
                    running: data.agent?.config?.version == null ? '—' : String(data.agent.config.version),
                  })}
              {data.agent?.config?.refused &&
                ` · ${t('cameras.refused', {
                  code: data.agent.config.refused.code,
                  at: formatDateTime(data.agent.config.refused.at),
                })}`}
            </p>
            <h2>{t('cameras.registered', { site: siteName(chosen) })}</h2>
            <DataTable
              columns={['cameras.name', 'cameras.location', 'cameras.source', 'cameras.applied', 'common.status']}
              actions="admin.edit"
              testId="camera-registry"
            >
              {data.cameras.map((c: RegistryCamera) => (
                <tr key={c.camera} class={c.enabled ? undefined : 'muted'} data-camera={c.camera}>
                  <td title={c.camera}>{c.name}</td>
                  <td>{c.location || '—'}</td>
                  <td>{c.adopted ? t('cameras.fromHub') : t('cameras.fromAgent')}</td>
                  <td>{c.applied ? t(`cameras.result.${c.applied.result}` as 'cameras.result.running') : '—'}</td>
                  <td>
                    {!c.enabled ? t('cameras.disabled') : c.status ? label('status', c.status) : t('cameras.new')}
                  </td>
                  <td class="actions">
                    <button
                      type="button"
                      onClick={() => {
                        setAdopt(null);
                        setProblems([]);
                        setEdit({
                          camera: c.camera,
                          name: c.name,
                          location: c.location,
                          connection: c.adopted
                            ? {
                                host: c.host ?? '',
                                port: String(c.port ?? 80),
                                username: c.username ?? '',
                                password: '',
                                was: { host: c.host ?? '', port: c.port ?? 80, username: c.username ?? '' },
                              }
                            : null,
                        });
                      }}
                    >
                      {t('admin.edit')}
                    </button>{' '}
                    <button
                      type="button"
                      onClick={() =>
                        void run(
                          () => api.updateCamera(chosen, c.camera, { enabled: !c.enabled }),
                          t(c.enabled ? 'cameras.disabledDone' : 'cameras.enabledDone', { camera: c.name }),
                        )
                      }
                    >
                      {c.enabled ? t('cameras.disable') : t('cameras.enable')}
                    </button>{' '}
                    {c.adopted && (
                      <button
                        type="button"
                        onClick={() => {
                          if (window.confirm(t('cameras.removeConfirm', { camera: c.name }))) {
                            void run(
                              () => api.removeCamera(chosen, c.camera),
                              t('cameras.removed', { camera: c.name }),
                            );
                          }
                        }}
                      >
                        {t('cameras.remove')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </DataTable>
            <p>
              <button type="button" onClick={startManual}>
                {t('cameras.addManual')}
              </button>
            </p>
            <h2>{t('cameras.discovered')}</h2>
            {data.discovered.length === 0 ? (
              <p class="muted">{t('cameras.noneDiscovered')}</p>
            ) : (
              <DataTable
                columns={['cameras.onvifName', 'cameras.address', 'cameras.hardware']}
                actions="cameras.adopt"
                testId="discovered"
              >
                {data.discovered.map((d) => {
                  const a = address(d);
                  return (
                    <tr key={d.endpoint} data-address={a ? `${a.host}:${a.port}` : ''}>
                      <td>{d.name ?? '—'}</td>
                      <td>{a ? `${a.host}:${a.port}` : d.xaddrs[0]}</td>
                      <td>{d.hardware ?? '—'}</td>
                      <td>
                        <button type="button" class="primary" onClick={() => startAdopt(d)}>
                          {t('cameras.adopt')}
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </DataTable>
            )}
          </>
        )}
      </Loading>
      {adopt && (
        <form class="search" noValidate onSubmit={(e) => void submitAdopt(e)} aria-labelledby="adopt-title">
          <h2 id="adopt-title">
            {adopt.endpoint
              ? t('cameras.adoptTitle', { address: `${adopt.host}:${adopt.port}` })
              : t('cameras.manualTitle')}
          </h2>
          <FormProblems problems={problems} title="cameras.invalid" testId="camera-problems" />
          <label>
            {t('cameras.id')}
            <input
              required
              pattern="[a-z0-9][a-z0-9_\-]{0,63}"
              title={t('admin.siteIdHint')}
              value={adopt.id}
              onInput={(e) => setAdopt({ ...adopt, id: e.currentTarget.value })}
            />
          </label>
          <PlaceFields value={adopt} onChange={(patch) => setAdopt({ ...adopt, ...patch })} />
          <ConnectionFields
            value={adopt}
            onChange={(patch) => setAdopt({ ...adopt, ...patch })}
            password="cameras.password"
          />
          <p class="small muted">{t('cameras.passwordOnce')}</p>
          <button type="submit" class="primary">
            {adopt.endpoint ? t('cameras.adopt') : t('cameras.addManualSubmit')}
          </button>
          <button type="button" onClick={() => setAdopt(null)}>
            {t('admin.cancel')}
          </button>
        </form>
      )}
      {edit && (
        <form class="search" noValidate onSubmit={(e) => void submitEdit(e)} aria-labelledby="camera-edit-title">
          <h2 id="camera-edit-title">{t('cameras.editTitle', { camera: edit.camera })}</h2>
          <FormProblems problems={problems} title="cameras.invalid" testId="camera-problems" />
          <PlaceFields value={edit} onChange={(patch) => setEdit({ ...edit, ...patch })} />
          {edit.connection && (
            <ConnectionFields
              value={edit.connection}
              onChange={(patch) => setEdit({ ...edit, connection: { ...edit.connection!, ...patch } })}
              password="cameras.newPassword"
            />
          )}
          <button type="submit" class="primary">
            {t('common.save')}
          </button>
          <button type="button" onClick={() => setEdit(null)}>
            {t('admin.cancel')}
          </button>
        </form>
      )}
      {done && <p role="status">{done}</p>}
      <ErrorNotice error={error} what="/sites/:site/cameras" />
    </>
  );
}

interface Place {
  name: string;
  location: string;
}

/** A camera's name and place, as people know it. */
function PlaceFields({ value, onChange }: { value: Place; onChange: (patch: Partial<Place>) => void }) {
  return (
    <>
      <label>
        {t('cameras.name')}
        <input required maxLength={128} value={value.name} onInput={(e) => onChange({ name: e.currentTarget.value })} />
      </label>
      <label>
        {t('cameras.location')}
        <input maxLength={300} value={value.location} onInput={(e) => onChange({ location: e.currentTarget.value })} />
      </label>
    </>
  );
}

interface Connection {
  host: string;
  port: string;
  username: string;
  password: string;
}

/**
 * How the agent reaches a camera: address, ONVIF port, user and password. Adding a camera asks for the password;
 * editing one asks for a new password only if it changes (the old one is never shown).
 */
function ConnectionFields(props: {
  value: Connection;
  onChange: (patch: Partial<Connection>) => void;
  password: 'cameras.password' | 'cameras.newPassword';
}) {
  const { value, onChange } = props;
  return (
    <>
      <label>
        {t('cameras.host')}
        <input
          required
          maxLength={255}
          pattern="[A-Za-z0-9.:_\[\]\-]+"
          title={t('cameras.hostHint')}
          value={value.host}
          onInput={(e) => onChange({ host: e.currentTarget.value })}
        />
      </label>
      <label>
        {t('cameras.port')}
        <input
          required
          type="number"
          min={1}
          max={65535}
          value={value.port}
          onInput={(e) => onChange({ port: e.currentTarget.value })}
        />
      </label>
      <label>
        {t('cameras.username')}
        <input
          required
          autocomplete="off"
          value={value.username}
          onInput={(e) => onChange({ username: e.currentTarget.value })}
        />
      </label>
      <label>
        {t(props.password)}
        <input
          required={props.password === 'cameras.password'}
          type="password"
          autocomplete="new-password"
          value={value.password}
          onInput={(e) => onChange({ password: e.currentTarget.value })}
        />
      </label>
    </>
  );
}
