import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, type CameraItem, type EventItem } from '../api.js';
import { ALERT_HANDLERS, EVENT_READERS, hasAnyRole } from '../access.js';
import { ErrorNotice, Loading, ProtectedImage, StatusBadge } from '../components/common.js';
import { LivePlayer } from '../components/live-player.js';
import { useConsole } from '../context.js';
import { useAsync } from '../hooks.js';
import { formatDateTime, t } from '../i18n/index.js';
import { href, navigate, type Route } from '../router.js';

const GRIDS = [2, 3, 4, 5] as const;
const CAMERAS_REFRESH_MS = 5000;
/** A motion start lights its tile this long when its end never comes (the agent ends it anyway, later). */
const MOTION_HOLD_MS = 60_000;
/** A pulse (line crossing, object...) lights its tile for a moment. */
const PULSE_HOLD_MS = 8000;

const keyOf = (c: { site: string; camera: string }) => `${c.site}/${c.camera}`;

interface TileState {
  snapshotEvent?: EventItem;
  activeUntil?: number;
}

/** The camera wall: a grid of tiles with the latest snapshot, name, status; tiles light on motion and alerts. */
export function WallView({ route }: { route: Route }) {
  const { user, live } = useConsole();
  const grid = GRIDS.find((g) => String(g) === route.query.get('grid')) ?? 3;
  const site = route.query.get('site') ?? '';
  const page = Math.max(1, Number(route.query.get('page') ?? 1) || 1);
  const canSeeEvents = hasAnyRole(user, EVENT_READERS);
  const canSeeAlerts = hasAnyRole(user, ALERT_HANDLERS);
  // Cameras with an unresolved alert (open or acknowledged); reloaded whenever an alert changes.
  const alerts = useAsync(
    async () => (canSeeAlerts ? (await api.alerts({ limit: 500 })).filter((a) => a.status !== 'resolved') : []),
    [canSeeAlerts],
    15_000,
  );
  const alerting = useMemo(
    () => new Set((alerts.data ?? []).filter((a) => a.camera).map((a) => `${a.site}/${a.camera}`)),
    [alerts.data],
  );

  const cameras = useAsync(() => api.cameras(site ? { site } : {}), [site], CAMERAS_REFRESH_MS);
  const video = useAsync(() => api.videoSettings(), []);
  const liveCap = video.data?.live ? video.data.wallMaxLive : 0;
  const allCameras = useAsync(() => api.cameras(), [], 60_000);
  const sites = useMemo(() => [...new Set((allCameras.data ?? []).map((c) => c.site))].sort(), [allCameras.data]);
  const [tiles, setTiles] = useState<Record<string, TileState>>({});
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);

  const list = (cameras.data ?? [])
    .slice()
    .sort((a, b) => a.site.localeCompare(b.site) || a.name.localeCompare(b.name));
  const perPage = grid * grid;
  const pages = Math.max(1, Math.ceil(list.length / perPage));
  const visible = list.slice((Math.min(page, pages) - 1) * perPage, Math.min(page, pages) * perPage);
  const visibleKey = visible.map(keyOf).join(',');

  const update = (key: string, fn: (s: TileState) => TileState) =>
    setTiles((all) => ({ ...all, [key]: fn(all[key] ?? {}) }));

  // The newest event with a snapshot for each visible tile that has none yet.
  useEffect(() => {
    if (!canSeeEvents) return;
    let cancelled = false;
    for (const c of visible) {
      if (tiles[keyOf(c)]?.snapshotEvent) continue;
      api.events({ site: c.site, camera: c.camera, limit: 20 }).then(
        (p) => {
          const withSnapshot = p.items.find((e) => e.snapshot);
          if (!cancelled && withSnapshot)
            update(keyOf(c), (s) => (s.snapshotEvent ? s : { ...s, snapshotEvent: withSnapshot }));
        },
        (err: Error) => console.warn('latest snapshot lookup failed', c.camera, err.message),
      );
    }
    return () => {
      cancelled = true;
    };
    // Only when the set of visible cameras changes.
  }, [visibleKey, canSeeEvents]);

  useEffect(
    () =>
      live.subscribe((m) => {
        if (m.kind === 'event') {
          const e = m.event;
          const at = Date.now();
          update(keyOf(e), (s) => ({
            ...s,
            snapshotEvent: e.snapshot && (!s.snapshotEvent || s.snapshotEvent.at <= e.at) ? e : s.snapshotEvent,
            activeUntil: e.state === 'start' ? at + MOTION_HOLD_MS : e.state === 'end' ? at : at + PULSE_HOLD_MS,
          }));
        } else if (m.kind === 'alert') {
          alerts.reload();
        } else {
          cameras.reload();
        }
      }),
    [live],
  );

  const setQuery = (q: Record<string, string | number | undefined>) =>
    navigate(['wall'], { grid, site: site || undefined, page: undefined, ...q });

  return (
    <section aria-labelledby="wall-title" class="wall-view">
      <div class="toolbar">
        <h1 id="wall-title">{t('nav.wall')}</h1>
        <label>
          {t('common.site')}{' '}
          <select value={site} onChange={(e) => setQuery({ site: e.currentTarget.value || undefined })}>
            <option value="">{t('common.all')}</option>
            {sites.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <fieldset class="grid-choice">
          <legend>{t('wall.grid')}</legend>
          {GRIDS.map((g) => (
            <button key={g} type="button" aria-pressed={g === grid} onClick={() => setQuery({ grid: g })}>
              {g}×{g}
            </button>
          ))}
        </fieldset>
        {pages > 1 && (
          <span class="pager">
            <button
              type="button"
              disabled={page <= 1}
              onClick={() => setQuery({ page: page - 1 })}
              aria-label={t('wall.prev')}
            >
              ‹
            </button>
            {t('wall.page', { page: Math.min(page, pages), pages })}
            <button
              type="button"
              disabled={page >= pages}
              onClick={() => setQuery({ page: page + 1 })}
              aria-label={t('wall.next')}
            >
              ›
            </button>
          </span>
        )}
      </div>
      <ErrorNotice error={cameras.error} what="GET /cameras" />
      <Loading when={cameras.loading && !cameras.data}>
        {list.length === 0 ? (
          <p class="muted">{t('wall.noCameras')}</p>
        ) : (
          <ul
            class="wall"
            style={{
              gridTemplateColumns: `repeat(${grid}, minmax(0, 1fr))`,
              gridTemplateRows: `repeat(${grid}, minmax(0, 1fr))`,
            }}
          >
            {visible.map((c, i) => (
              <Tile
                key={keyOf(c)}
                live={i < liveCap}
                camera={c}
                state={tiles[keyOf(c)] ?? {}}
                alert={alerting.has(keyOf(c))}
                now={now}
                canSeeEvents={canSeeEvents}
              />
            ))}
          </ul>
        )}
      </Loading>
    </section>
  );
}

/** Whether the element is on screen: tiles scrolled away stop their live video. */
function useVisible(ref: { current: Element | null }): boolean {
  const [visible, setVisible] = useState(true);
  useEffect(() => {
    if (!ref.current || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver((entries) => setVisible(entries.some((e) => e.isIntersecting)));
    observer.observe(ref.current);
    return () => observer.disconnect();
  }, [ref.current]);
  return visible;
}

function Tile({
  camera,
  live,
  state,
  alert,
  now,
  canSeeEvents,
}: {
  camera: CameraItem;
  /** Within the wall's live cap: plays live video while on screen (the snapshot stays beneath as the fallback). */
  live: boolean;
  state: TileState;
  alert: boolean;
  now: number;
  canSeeEvents: boolean;
}) {
  const active = state.activeUntil !== undefined && state.activeUntil > now;
  const cls = ['tile', `status-${camera.status}`, active ? 'active' : '', alert ? 'alerting' : ''].join(' ');
  const snap = state.snapshotEvent;
  const ref = useRef<HTMLLIElement>(null);
  const onScreen = useVisible(ref);
  return (
    <li ref={ref} class={cls} data-camera={camera.camera} data-active={active ? 'true' : 'false'}>
      <a href={href(['camera', camera.site, camera.camera])} aria-label={t('wall.open', { name: camera.name })}>
        <div class="tile-media">
          {canSeeEvents && snap ? (
            <ProtectedImage path={api.snapshotPath(snap.id)} alt={camera.name} class="tile-img" />
          ) : (
            <div class="noimg">{t('wall.noSnapshot')}</div>
          )}
          {live && onScreen && (
            <LivePlayer site={camera.site} camera={camera.camera} name={camera.name} profile="sub" class="tile-live" />
          )}
          {active && <span class="flag motion">{t('wall.motion')}</span>}
          {alert && <span class="flag alert">{t('wall.alert')}</span>}
        </div>
        <div class="tile-foot">
          <span class="tile-name">{camera.name}</span>
          <StatusBadge status={camera.status} />
        </div>
        <div class="tile-sub muted small">
          {camera.site} · {t('wall.lastEvent', { time: formatDateTime(camera.lastEventAt, camera.site, 'time') })}
        </div>
      </a>
    </li>
  );
}
