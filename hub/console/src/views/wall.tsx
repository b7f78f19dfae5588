import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { type Alert, api, type CameraItem, type EventItem } from '../api.js';
import { ALERT_HANDLERS, EVENT_READERS, hasAnyRole } from '../access.js';
import { shownStatus } from '../camera-state.js';
import { ErrorNotice, Loading, ProtectedImage, StatusBadge } from '../components/common.js';
import { LivePlayer } from '../components/live-player.js';
import { useConsole } from '../context.js';
import { useAsync } from '../hooks.js';
import { formatDateTime, label, t } from '../i18n/index.js';
import type { CameraStatusMessage, LiveMode } from '../live.js';
import { rememberCameras, siteName, useNames } from '../names.js';
import { href, navigate, type Route } from '../router.js';
import { alertWhat } from '../words.js';

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
  /** What lit the tile: the flag names it (intrusion, camera covered, video lost, motion...). */
  activeType?: EventItem['type'];
}

/** The camera list with the live feed's newer status changes applied (they arrive before the next reload). */
export function withLiveStatus(list: CameraItem[], pushed: Map<string, CameraStatusMessage>): CameraItem[] {
  return list.map((c) => {
    const s = pushed.get(keyOf(c));
    // The newer of the two wins: a reload after the push carries the same or a later change.
    return s && s.at >= (c.since ?? '') ? { ...c, status: s.to, since: s.at, problems: s.problems } : c;
  });
}

/** The camera wall: a grid of tiles with the latest snapshot, name, status; tiles light on motion and alerts. */
export function WallView({ route }: { route: Route }) {
  const { user, live } = useConsole();
  useNames();
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
  const alerting = useMemo(() => {
    const byCamera = new Map<string, Alert>();
    for (const a of alerts.data ?? [])
      if (a.camera && !byCamera.has(`${a.site}/${a.camera}`)) byCamera.set(`${a.site}/${a.camera}`, a);
    return byCamera;
  }, [alerts.data]);

  const cameras = useAsync(
    () => api.cameras(site ? { site } : {}).then((l) => (rememberCameras(l), l)),
    [site],
    CAMERAS_REFRESH_MS,
  );
  const video = useAsync(() => api.videoSettings(), []);
  const liveCap = video.data?.live ? video.data.wallMaxLive : 0;
  // Status changes pushed by the hub, applied at once (the list reload that follows may take a while).
  const [pushed, setPushed] = useState<Map<string, CameraStatusMessage>>(new Map());
  const [mode, setMode] = useState<LiveMode>(live.mode);
  useEffect(() => live.onMode(setMode), [live]);
  const allCameras = useAsync(() => api.cameras(), [], 60_000);
  const sites = useMemo(() => [...new Set((allCameras.data ?? []).map((c) => c.site))].sort(), [allCameras.data]);
  const [tiles, setTiles] = useState<Record<string, TileState>>({});
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);

  const list = withLiveStatus(cameras.data ?? [], pushed).sort(
    (a, b) => a.site.localeCompare(b.site) || a.name.localeCompare(b.name),
  );
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
            activeType: e.state === 'end' ? s.activeType : e.type,
          }));
        } else if (m.kind === 'alert') {
          alerts.reload();
        } else if (m.kind === 'camera') {
          const status = m.status;
          setPushed((all) => new Map(all).set(keyOf(status), status));
          cameras.reload();
        } else {
          alerts.reload();
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
                {siteName(s)}
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
                alert={alerting.get(keyOf(c)) ?? null}
                hubLost={mode === 'down'}
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
  hubLost,
  now,
  canSeeEvents,
}: {
  camera: CameraItem;
  /** Within the wall's live cap: plays live video while on screen (the snapshot stays beneath as the fallback). */
  live: boolean;
  state: TileState;
  alert: Alert | null;
  hubLost: boolean;
  now: number;
  canSeeEvents: boolean;
}) {
  const active = state.activeUntil !== undefined && state.activeUntil > now;
  // With the hub out of reach nobody knows the camera's state: never show a stale green "online".
  const status = hubLost ? 'unknown' : shownStatus(camera);
  const lost = status === 'offline' || status === 'unknown';
  const cls = ['tile', `status-${status}`, lost ? 'lost' : '', active ? 'active' : '', alert ? 'alerting' : ''].join(
    ' ',
  );
  const snap = state.snapshotEvent;
  const ref = useRef<HTMLLIElement>(null);
  const onScreen = useVisible(ref);
  return (
    <li ref={ref} class={cls} data-camera={camera.camera} data-active={active ? 'true' : 'false'} data-status={status}>
      <a
        href={href(['camera', camera.site, camera.camera])}
        aria-label={t('wall.open', { name: camera.name })}
        title={`${camera.site}/${camera.camera}`}
      >
        <div class="tile-media">
          {canSeeEvents && snap ? (
            <ProtectedImage path={api.snapshotPath(snap.id)} alt={camera.name} class="tile-img" />
          ) : (
            <div class="noimg">{t('wall.noSnapshot')}</div>
          )}
          {live && onScreen && !lost && status !== 'disabled' && (
            <LivePlayer site={camera.site} camera={camera.camera} name={camera.name} profile="sub" class="tile-live" />
          )}
          {lost && (
            <span class="lost-note">
              {hubLost
                ? t('wall.hubLost')
                : t('wall.lostSince', { time: formatDateTime(camera.since, camera.site, 'hm') })}
            </span>
          )}
          {active && <span class="flag motion">{label('type', state.activeType ?? 'motion')}</span>}
          {alert && <span class="flag alert">{t('wall.alertFlag', { what: alertWhat(alert) })}</span>}
        </div>
        <div class="tile-foot">
          <span class="tile-name">{camera.name}</span>
          <StatusBadge status={status} />
        </div>
        <div class="tile-sub muted small">
          {siteName(camera.site)} ·{' '}
          {t('wall.lastEvent', { time: formatDateTime(camera.lastEventAt, camera.site, 'time') })}
        </div>
      </a>
    </li>
  );
}
