import { useEffect, useState } from 'preact/hooks';
import type { CameraClip } from '@camhub/shared';
import { api, type EventItem } from '../api.js';
import { EVENT_READERS, HEALTH_READERS, hasAnyRole } from '../access.js';
import { ErrorNotice, Loading, Place, Problems, ProtectedImage, StatusBadge } from '../components/common.js';
import { LivePlayer } from '../components/live-player.js';
import { useConsole } from '../context.js';
import { useAsync } from '../hooks.js';
import { formatDateTime, formatNumber, label, t } from '../i18n/index.js';
import { siteName, useNames } from '../names.js';
import { href, useRoute } from '../router.js';
import { measuring, shownStatus } from '../camera-state.js';

/** One camera for operators: latest snapshot, latest events with thumbnails, current health. */
export function CameraView({ site, camera }: { site: string; camera: string }) {
  const { user, live } = useConsole();
  useNames();
  const info = useAsync(
    () => api.cameras({ site }).then((l) => l.find((c) => c.camera === camera) ?? null),
    [site, camera],
    5000,
  );
  const events = useAsync(() => api.events({ site, camera, limit: 24 }), [site, camera], 15_000);
  const video = useAsync(() => api.videoSettings(), []);
  useEffect(
    () =>
      live.subscribe((m) => {
        if (m.kind === 'event' && m.event.site === site && m.event.camera === camera) events.reload();
        if (m.kind === 'camera' && m.status.site === site && m.status.camera === camera) info.reload();
        if (m.kind === 'resync') info.reload();
      }),
    [live, site, camera],
  );
  const cam = info.data;
  const latest: EventItem | undefined = events.data?.items.find((e) => e.snapshot);
  // Figures of a camera that is not up are stale: show none rather than the last ones.
  const h = cam && measuring(cam) ? cam.health : null;
  return (
    <section aria-labelledby="camera-title" class="camera-view">
      <p>
        <a href={href(['wall'])}>← {t('common.back')}</a>
      </p>
      <h1 id="camera-title">
        <span title={`${site}/${camera}`}>{t('camera.title', { name: cam?.name ?? camera })}</span>{' '}
        <span class="muted" title={site}>
          ({siteName(site)})
        </span>{' '}
        {cam && <StatusBadge status={shownStatus(cam)} />}
      </h1>
      <ErrorNotice error={info.error ?? events.error} what="GET /cameras, /events" />
      <div class="camera-grid">
        <div>
          <h2>{video.data?.live ? t('camera.live') : t('camera.snapshot')}</h2>
          <div class="big-media">
            {latest ? (
              <ProtectedImage
                path={api.snapshotPath(latest.id)}
                alt={`${cam?.name ?? camera} ${formatDateTime(latest.at, site)}`}
                class="big-img"
              />
            ) : (
              <div class="noimg big-img">{t('wall.noSnapshot')}</div>
            )}
            {video.data?.live && cam?.enabled !== false && (
              <LivePlayer site={site} camera={camera} name={cam?.name ?? camera} profile="main" class="big-live" />
            )}
          </div>
          {video.data && !video.data.live && <p class="muted small">{t('camera.liveUnavailable')}</p>}
        </div>
        <div>
          <h2>{t('camera.health')}</h2>
          {cam ? (
            <dl class="facts">
              <dt>{t('common.status')}</dt>
              <dd>
                <StatusBadge status={cam.status} /> {t('common.since')} {formatDateTime(cam.since, site)}
              </dd>
              <dt>{t('camera.lastSeen')}</dt>
              <dd>{formatDateTime(cam.lastSeenAt, site)}</dd>
              <dt>{t('health.fps')}</dt>
              <dd>{formatNumber(h?.stream?.fps)}</dd>
              <dt>{t('health.bitrate')}</dt>
              <dd>{formatNumber(h?.stream?.bitrateKbps, 0)}</dd>
              <dt>{t('health.latency')}</dt>
              <dd>{formatNumber(h?.onvif?.latencyMs, 0)}</dd>
              <dt>{t('common.problems')}</dt>
              <dd>
                <Problems problems={cam.problems} help />
              </dd>
            </dl>
          ) : (
            <Loading when={info.loading} />
          )}
          {hasAnyRole(user, HEALTH_READERS) && <a href={href(['health', site, camera])}>{t('health.charts')} →</a>}
        </div>
      </div>
      <h2>{t('camera.latestEvents')}</h2>
      <Loading when={events.loading && !events.data}>
        <EventGrid items={events.data?.items ?? []} />
      </Loading>
      {hasAnyRole(user, EVENT_READERS) && <ClipTimeline site={site} camera={camera} />}
    </section>
  );
}

const DAY_MS = 86_400_000;

/** The camera's clips of the last 24 hours on a line (now at the right end), and the chosen one playing below. */
function ClipTimeline({ site, camera }: { site: string; camera: string }) {
  const clips = useAsync(() => api.cameraClips(site, camera), [site, camera], 60_000);
  const [chosen, setChosen] = useState<CameraClip | null>(null);
  const now = Date.now();
  const items = clips.data ?? [];
  // A notification's video link (`?clip=<event>`) chooses that event's clip as soon as it is at the hub.
  const wanted = useRoute().query.get('clip');
  useEffect(() => {
    if (!wanted || chosen) return;
    const c = items.find((x) => x.event === wanted && x.available);
    if (c) setChosen(c);
  }, [wanted, clips.data]);
  const waiting = !!wanted && !chosen && !items.some((x) => x.event === wanted && x.available);
  return (
    <>
      <h2>{t('clip.timelineTitle')}</h2>
      <ErrorNotice error={clips.error} what="GET /cameras/:site/:camera/clips" />
      <Loading when={clips.loading && !clips.data}>
        {items.length === 0 ? (
          <p class="muted">{t('clip.noneToday')}</p>
        ) : (
          <div class="clip-timeline" aria-label={t('clip.timelineTitle')}>
            {items.map((c) => {
              const left = Math.max(0, Math.min(100, ((Date.parse(c.startAt) - (now - DAY_MS)) / DAY_MS) * 100));
              const width = Math.max(0.4, (c.durationMs / DAY_MS) * 100);
              const time = formatDateTime(c.at ?? c.startAt, site);
              return (
                <button
                  key={c.event}
                  type="button"
                  class={`clip-mark${chosen?.event === c.event ? ' chosen' : ''}${c.available ? '' : ' pending'}`}
                  style={{ left: `${left}%`, width: `${width}%` }}
                  title={`${c.type ? label('type', c.type) : ''} ${time}`}
                  aria-label={t('clip.playAt', { time })}
                  disabled={!c.available}
                  onClick={() => setChosen(c)}
                />
              );
            })}
          </div>
        )}
        <div class="clip-axis small muted">
          <span>{t('clip.dayAgo')}</span>
          <span>{t('clip.now')}</span>
        </div>
        {waiting && <p class="muted small clip-pending">{t('clip.pending')}</p>}
        {chosen && (
          <div class="clip-chosen">
            <p class="small">
              {chosen.type ? label('type', chosen.type) : ''} · {formatDateTime(chosen.at ?? chosen.startAt, site)} ·{' '}
              {t('clip.seconds', { n: formatNumber(Math.round(chosen.durationMs / 1000)) })}
            </p>
            <video
              key={chosen.event}
              class="clip-video"
              src={api.clipPath(chosen.event)}
              controls
              autoplay
              muted
              playsInline
              preload="metadata"
            />
          </div>
        )}
      </Loading>
    </>
  );
}

/** An event's clip: a button that opens the player in place (a list of players would fetch every clip at once). */
export function EventClip({ event }: { event: EventItem }) {
  const [open, setOpen] = useState(false);
  const clip = event.clip;
  if (!clip) return null;
  if (!clip.available) return <p class="muted small clip-pending">{t('clip.pending')}</p>;
  const seconds = t('clip.seconds', { n: formatNumber(Math.round(clip.durationMs / 1000)) });
  if (!open) {
    return (
      <button type="button" class="clip-open small" data-clip={event.id} onClick={() => setOpen(true)}>
        ▶ {t('clip.play')} ({seconds})
      </button>
    );
  }
  return (
    <video
      class="clip-video"
      data-clip={event.id}
      src={api.clipPath(event.id)}
      controls
      autoplay
      muted
      playsInline
      preload="metadata"
      aria-label={t('clip.of', { type: label('type', event.type), time: formatDateTime(event.at, event.site) })}
    />
  );
}

export function EventGrid({ items, onOpen }: { items: EventItem[]; onOpen?: (e: EventItem) => void }) {
  if (items.length === 0) return <p class="muted">{t('common.none')}</p>;
  return (
    <ul class="event-grid">
      {items.map((e) => (
        <li key={e.id} data-event={e.id}>
          {e.snapshot ? (
            onOpen ? (
              <button
                type="button"
                class="thumb-button"
                onClick={() => onOpen(e)}
                aria-label={t('history.openSnapshot')}
              >
                <ProtectedImage path={api.snapshotPath(e.id)} alt="" class="thumb" />
              </button>
            ) : (
              <ProtectedImage
                path={api.snapshotPath(e.id)}
                alt={`${label('type', e.type)} ${formatDateTime(e.at, e.site)}`}
                class="thumb"
              />
            )
          ) : (
            <div class="noimg thumb">{t('history.noSnapshot')}</div>
          )}
          <div class="small">
            <strong>{label('type', e.type)}</strong> ({label('state', e.state)})
            <br />
            <span class="muted">
              <Place site={e.site} camera={e.camera} /> · <time dateTime={e.at}>{formatDateTime(e.at, e.site)}</time>
            </span>
            <EventClip event={e} />
          </div>
        </li>
      ))}
    </ul>
  );
}
