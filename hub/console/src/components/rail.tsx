import { useEffect, useState } from 'preact/hooks';
import { type Alert, api } from '../api.js';
import { ALERT_HANDLERS, hasAnyRole } from '../access.js';
import { useConsole } from '../context.js';
import { formatDateTime, formatNumber, label, t } from '../i18n/index.js';
import type { LiveMessage } from '../live.js';
import { useNames } from '../names.js';
import { href } from '../router.js';
import { alertTitle, alertWhat, liveActionText } from '../words.js';
import { Place } from './common.js';

interface RailItem {
  key: string;
  at: string;
  site: string;
  camera: string;
  text: string;
  critical: boolean;
  alertId?: string;
}

/** The critical alert the banner shows, kept in step with every change of that alert. */
interface Banner {
  alert: Alert;
  /** Raised again by events joining it (how many joined since it opened on this screen). */
  again: number;
}

const SOUND_KEY = 'camhub.sound';

/** A short two-tone beep made on the spot: no audio file to ship, works offline. */
function beep() {
  const ctx = new AudioContext();
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  osc.connect(gain).connect(ctx.destination);
  osc.frequency.setValueAtTime(880, ctx.currentTime);
  osc.frequency.setValueAtTime(660, ctx.currentTime + 0.2);
  gain.gain.setValueAtTime(0.2, ctx.currentTime);
  osc.start();
  osc.stop(ctx.currentTime + 0.45);
  osc.onended = () => void ctx.close();
}

const unresolved = (a: Alert) => a.status !== 'resolved';

/**
 * Whether a change must (re)raise the banner and the sound: a critical alert opening or escalating, and any event
 * joining a critical alert nobody has resolved yet (a second intrusion is news even if the first was acknowledged).
 */
export function raises(m: Extract<LiveMessage, { kind: 'alert' }>): boolean {
  if (m.alert.severity !== 'critical' || !unresolved(m.alert)) return false;
  return m.action === 'opened' || m.action === 'escalated' || m.action === 'events_attached';
}

function toItem(m: LiveMessage): RailItem | null {
  if (m.kind === 'event') {
    const e = m.event;
    return {
      key: `e${e.id}`,
      at: e.at,
      site: e.site,
      camera: e.camera,
      text: `${label('type', e.type)} (${label('state', e.state)})`,
      critical: false,
    };
  }
  if (m.kind === 'alert') {
    const a = m.alert;
    const again = m.action === 'events_attached' && raises(m);
    return {
      key: `a${a.id}-${a.updatedAt}-${m.action}`,
      at: a.updatedAt,
      site: a.site,
      camera: a.camera ?? '',
      text: `${alertWhat(a)} — ${
        again
          ? t('live.reRaised', { count: formatNumber(Number(m.data?.events ?? 0), 0) })
          : liveActionText(m.action, m.actor, m.data)
      }`,
      critical: raises(m),
      alertId: a.id,
    };
  }
  if (m.kind === 'camera') {
    return {
      key: `s${m.status.site}/${m.status.camera}${m.status.at}`,
      at: m.status.at,
      site: m.status.site,
      camera: m.status.camera,
      text: `${t('common.status')}: ${label('status', m.status.to)}`,
      critical: false,
    };
  }
  return null;
}

/** The live rail: newest first, fed by the live feed (SSE or polling). Critical alerts flash and may beep. */
export function Rail() {
  const { live, user } = useConsole();
  useNames();
  const [items, setItems] = useState<RailItem[]>([]);
  const [sound, setSound] = useState(localStorage.getItem(SOUND_KEY) === 'on');
  const [banner, setBanner] = useState<Banner | null>(null);
  // A critical alert nobody has acknowledged is on the screen from the start, not only when it next changes.
  useEffect(() => {
    if (!hasAnyRole(user, ALERT_HANDLERS)) return;
    let cancelled = false;
    api.alerts({ status: 'open', limit: 100 }).then(
      (list) => {
        const newest = list
          .filter((a) => a.severity === 'critical')
          .sort((a, b) => b.openedAt.localeCompare(a.openedAt))[0];
        if (!cancelled && newest) setBanner((b) => b ?? { alert: newest, again: 0 });
      },
      (err: Error) => console.warn('open alerts not loaded for the banner', err.message),
    );
    return () => {
      cancelled = true;
    };
  }, [user]);
  useEffect(
    () =>
      live.subscribe((m) => {
        const item = toItem(m);
        if (item) setItems((list) => [item, ...list.filter((i) => i.key !== item.key)].slice(0, 60));
        if (m.kind !== 'alert') return;
        if (raises(m)) {
          setBanner((b) => ({
            alert: m.alert,
            again:
              m.action === 'events_attached'
                ? (b?.alert.id === m.alert.id ? b.again : 0) + Number(m.data?.events ?? 1)
                : 0,
          }));
          if (localStorage.getItem(SOUND_KEY) === 'on') beep();
          return;
        }
        // The banner follows its alert: acknowledged shows who, resolved (by anyone, or by itself) takes it down.
        setBanner((b) =>
          b && b.alert.id === m.alert.id ? (unresolved(m.alert) ? { ...b, alert: m.alert } : null) : b,
        );
      }),
    [live],
  );
  const title = banner ? alertTitle(banner.alert) : '';
  return (
    <aside class="rail" aria-labelledby="rail-title">
      <h2 id="rail-title">{t('rail.title')}</h2>
      <label class="small">
        <input
          type="checkbox"
          checked={sound}
          onChange={(e) => {
            const on = e.currentTarget.checked;
            setSound(on);
            localStorage.setItem(SOUND_KEY, on ? 'on' : 'off');
          }}
        />{' '}
        {t('rail.sound')}
      </label>
      {banner && (
        <div
          class={`critical-banner status-${banner.alert.status}`}
          role="alert"
          data-alert={banner.alert.id}
          data-again={banner.again > 0 ? 'true' : 'false'}
        >
          <a href={href(['alerts', banner.alert.id])}>
            {banner.again > 0
              ? t('banner.again', { count: formatNumber(banner.alert.eventCount, 0), title })
              : t('banner.critical', { title })}
          </a>
          {banner.alert.status === 'acknowledged' && banner.alert.acknowledgedBy && (
            <div class="small">{t('banner.acknowledged', { user: banner.alert.acknowledgedBy })}</div>
          )}
          <button type="button" class="link" onClick={() => setBanner(null)}>
            {t('common.close')}
          </button>
        </div>
      )}
      {items.length === 0 ? (
        <p class="muted">{t('rail.empty')}</p>
      ) : (
        <ol class="rail-list" aria-live="polite" aria-relevant="additions">
          {items.map((i) => (
            <li key={i.key} class={i.critical ? 'critical' : undefined} data-camera={i.camera} data-alert={i.alertId}>
              <time dateTime={i.at}>{formatDateTime(i.at, i.site, 'time')}</time>{' '}
              <a href={i.alertId ? href(['alerts', i.alertId]) : href(['camera', i.site, i.camera])}>
                <Place site={i.site} camera={i.camera || null} />
              </a>
              <span>{i.text}</span>
            </li>
          ))}
        </ol>
      )}
    </aside>
  );
}
