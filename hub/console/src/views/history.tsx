import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, EVENT_TYPES, type EventItem } from '../api.js';
import { ErrorNotice, Loading, ProtectedImage } from '../components/common.js';
import { useAsync } from '../hooks.js';
import { formatDateTime, label, localInputToIso, t } from '../i18n/index.js';
import { placeName, rememberCameras, siteName, useNames } from '../names.js';
import { navigate, type Route } from '../router.js';
import { EventGrid } from './camera.js';

const PAGE = 48;

/** History search for the police: site, camera, type, time range; keyset pages; snapshots; evidence export. */
export function HistoryView({ route }: { route: Route }) {
  const q = {
    site: route.query.get('site') ?? '',
    camera: route.query.get('camera') ?? '',
    type: route.query.get('type') ?? '',
    from: route.query.get('from') ?? '',
    to: route.query.get('to') ?? '',
  };
  const [form, setForm] = useState(q);
  useNames();
  const cameras = useAsync(() => api.cameras().then((l) => (rememberCameras(l), l)), []);
  const sites = [...new Set((cameras.data ?? []).map((c) => c.site))].sort();
  const camerasOfSite = (cameras.data ?? []).filter((c) => !form.site || c.site === form.site);

  const [items, setItems] = useState<EventItem[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [opened, setOpened] = useState<EventItem | null>(null);
  const searchKey = JSON.stringify(q);
  const apiQuery = {
    site: q.site || undefined,
    camera: q.camera || undefined,
    type: q.type || undefined,
    from: localInputToIso(q.from, q.site),
    to: localInputToIso(q.to, q.site),
  };

  const load = async (after: string | null, replace: boolean) => {
    setLoading(true);
    setError(null);
    try {
      const page = await api.events({ ...apiQuery, limit: PAGE, cursor: after ?? undefined });
      setItems((prev) => (replace ? page.items : [...prev, ...page.items]));
      setCursor(page.nextCursor);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'client_error', String(err)));
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    setForm(q);
    void load(null, true);
  }, [searchKey]);

  // Infinite scroll: the sentinel below the results loads the next page when it comes into view.
  const sentinel = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !cursor) return;
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && !loading) void load(cursor, false);
    });
    io.observe(el);
    return () => io.disconnect();
  }, [cursor, loading]);

  const submit = (e: Event) => {
    e.preventDefault();
    navigate(['history'], { ...form });
  };
  const set = (k: keyof typeof form) => (e: Event) =>
    setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });

  return (
    <section aria-labelledby="history-title">
      <h1 id="history-title">{t('history.title')}</h1>
      <form class="search" onSubmit={submit}>
        <label>
          {t('common.site')}
          <select
            name="site"
            value={form.site}
            onChange={(e) => setForm({ ...form, site: e.currentTarget.value, camera: '' })}
          >
            <option value="">{t('common.all')}</option>
            {sites.map((s) => (
              <option key={s} value={s}>
                {siteName(s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('common.camera')}
          <select
            name="camera"
            value={form.camera ? `${form.site}/${form.camera}` : ''}
            onChange={(e) => {
              // A camera id is unique only within its site: choosing a camera chooses its site too.
              const [site = '', camera = ''] = e.currentTarget.value.split('/');
              setForm({ ...form, site: camera ? site : form.site, camera });
            }}
          >
            <option value="">{t('common.all')}</option>
            {camerasOfSite.map((c) => (
              <option key={`${c.site}/${c.camera}`} value={`${c.site}/${c.camera}`}>
                {sites.length > 1 && !form.site ? `${c.name} (${siteName(c.site)})` : c.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('common.type')}
          <select name="type" value={form.type} onChange={set('type')}>
            <option value="">{t('common.all')}</option>
            {EVENT_TYPES.map((ty) => (
              <option key={ty} value={ty}>
                {label('type', ty)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('common.from')}
          <input name="from" type="datetime-local" value={form.from} onInput={set('from')} />
        </label>
        <label>
          {t('common.to')}
          <input name="to" type="datetime-local" value={form.to} onInput={set('to')} />
        </label>
        <button type="submit" class="primary">
          {t('common.search')}
        </button>
        <ExportButton query={apiQuery} />
      </form>
      <h2>{t('history.results')}</h2>
      <ErrorNotice error={error} what="GET /events" />
      <EventGrid items={items} onOpen={setOpened} />
      <div ref={sentinel} />
      <Loading when={loading}>
        {cursor ? (
          <button type="button" onClick={() => void load(cursor, false)}>
            {t('common.loadMore')}
          </button>
        ) : (
          items.length > 0 && <p class="muted small">{t('common.endOfResults')}</p>
        )}
      </Loading>
      {opened && <SnapshotDialog event={opened} onClose={() => setOpened(null)} />}
    </section>
  );
}

function SnapshotDialog({ event, onClose }: { event: EventItem; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  const title = t('history.snapshotOf', {
    type: label('type', event.type),
    camera: placeName(event.site, event.camera),
    time: formatDateTime(event.at, event.site),
  });
  return (
    <dialog ref={ref} class="snapshot-dialog" onClose={onClose} aria-label={title}>
      <h2>{title}</h2>
      <ProtectedImage path={api.snapshotPath(event.id)} alt={title} class="full-img" />
      <form method="dialog">
        <button type="submit" autofocus>
          {t('common.close')}
        </button>
      </form>
    </dialog>
  );
}

/** Evidence export (police): the hub builds a signed zip of every matching event and sends it back at once. */
function ExportButton({ query }: { query: Record<string, string | undefined> }) {
  const [reason, setReason] = useState('');
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const start = async () => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const { blob, id, sha256 } = await api.exportEvidence({ ...query, reason: reason.trim() || undefined });
      const file = `camhub-export-${id ?? 'evidence'}.zip`;
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = file;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
      setDone(t('history.exportDone', { file, sha: sha256?.slice(0, 16) ?? '—' }));
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'client_error', String(err)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="export">
      <label>
        {t('history.reason')}
        <input name="reason" value={reason} maxLength={500} onInput={(e) => setReason(e.currentTarget.value)} />
      </label>
      <button type="button" onClick={() => void start()} disabled={busy}>
        {t('history.export')}
      </button>
      {busy && (
        <span class="muted small" role="status">
          {t('history.exporting')}
        </span>
      )}
      {done && <span role="status">{done}</span>}
      <ErrorNotice error={error} what="POST /exports" />
    </div>
  );
}
