import { useEffect, useState } from 'preact/hooks';
import { useConsole } from '../context.js';
import { formatDateTime, label, t } from '../i18n/index.js';
import type { LiveMessage, LiveMode } from '../live.js';
import { href } from '../router.js';

interface RailItem {
  key: string;
  at: string;
  site: string;
  camera: string;
  text: string;
  critical: boolean;
  alertId?: string;
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
    return {
      key: `a${a.id}-${a.updatedAt}-${m.action}`,
      at: a.updatedAt,
      site: a.site,
      camera: a.camera ?? '',
      text: `${label('severity', a.severity)}: ${a.title} — ${label('alertAction', m.action)}`,
      critical: a.severity === 'critical' && (m.action === 'opened' || m.action === 'escalated'),
      alertId: a.id,
    };
  }
  return {
    key: `s${m.status.site}/${m.status.camera}${m.status.at}`,
    at: m.status.at,
    site: m.status.site,
    camera: m.status.camera,
    text: `${t('common.status')}: ${label('status', m.status.to)}`,
    critical: false,
  };
}

/** The live rail: newest first, fed by the live feed (SSE or polling). Critical alerts flash and may beep. */
export function Rail() {
  const { live } = useConsole();
  const [items, setItems] = useState<RailItem[]>([]);
  const [mode, setMode] = useState<LiveMode>(live.mode);
  const [sound, setSound] = useState(localStorage.getItem(SOUND_KEY) === 'on');
  const [critical, setCritical] = useState<RailItem | null>(null);
  useEffect(() => live.onMode(setMode), [live]);
  useEffect(
    () =>
      live.subscribe((m) => {
        const item = toItem(m);
        if (!item) return;
        setItems((list) => [item, ...list.filter((i) => i.key !== item.key)].slice(0, 60));
        if (item.critical) {
          setCritical(item);
          if (localStorage.getItem(SOUND_KEY) === 'on') beep();
        }
      }),
    [live],
  );
  return (
    <aside class="rail" aria-labelledby="rail-title">
      <h2 id="rail-title">{t('rail.title')}</h2>
      <p class="muted small">
        <span class={`dot ${mode}`} aria-hidden="true" /> {mode === 'live' ? t('rail.connected') : t('rail.polling')}
      </p>
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
      {critical && (
        <div class="critical-banner" role="alert">
          <a href={href(['alerts', critical.alertId ?? ''])}>{t('rail.criticalAlert', { title: critical.text })}</a>
          <button type="button" class="link" onClick={() => setCritical(null)}>
            {t('common.close')}
          </button>
        </div>
      )}
      {items.length === 0 ? (
        <p class="muted">{t('rail.empty')}</p>
      ) : (
        <ol class="rail-list" aria-live="polite" aria-relevant="additions">
          {items.map((i) => (
            <li key={i.key} class={i.critical ? 'critical' : undefined} data-camera={i.camera}>
              <time dateTime={i.at}>{formatDateTime(i.at, i.site, 'time')}</time>{' '}
              <a href={i.alertId ? href(['alerts', i.alertId]) : href(['camera', i.site, i.camera])}>{i.camera}</a>
              <span>{i.text}</span>
            </li>
          ))}
        </ol>
      )}
    </aside>
  );
}
