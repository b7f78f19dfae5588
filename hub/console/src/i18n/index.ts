import { en } from './en.js';
import { vi } from './vi.js';

export type MessageKey = keyof typeof vi;
export type Lang = 'vi' | 'en';

const CATALOGUES: Record<Lang, Record<MessageKey, string>> = { vi, en };
const LOCALES: Record<Lang, string> = { vi: 'vi-VN', en: 'en-GB' };
const LANG_KEY = 'camhub.lang';
export const DEFAULT_TIME_ZONE = 'Asia/Ho_Chi_Minh';

let lang: Lang = localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'vi';
const siteTimeZones = new Map<string, string>();
const listeners = new Set<() => void>();

export function currentLang(): Lang {
  return lang;
}

export function setLang(next: Lang): void {
  lang = next;
  localStorage.setItem(LANG_KEY, next);
  document.documentElement.lang = next;
  for (const l of listeners) l();
}

export function onLangChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** A message in the current language; `{name}` placeholders are filled from `params`. */
export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  const text = CATALOGUES[lang][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name: string) => (name in params ? String(params[name]) : `{${name}}`));
}

/** A label for a value from an open set (status, type, severity): the catalogue's word, or the raw value. */
export function label(
  prefix:
    'status' | 'type' | 'severity' | 'alertStatus' | 'alertAction' | 'role' | 'state' | 'admin.condition' | 'siteKind',
  value: string,
): string {
  const key = `${prefix}.${value}` as MessageKey;
  return key in vi ? t(key) : value;
}

/**
 * A health problem in the user's language: the catalogue's `problem.<code>` with its machine `params` (a reason code
 * is worded too); a code the catalogue does not know yet shows as "undescribed problem (code …)".
 */
export function problemText(p: { code: string; message?: string; params?: Record<string, string | number> }): string {
  const key = `problem.${p.code}` as MessageKey;
  // A code this console does not know yet: said as such with its code, never the agent's English message.
  if (!(key in vi)) return t('problem.unknownCode', { code: p.code });
  const params: Record<string, string | number> = { count: '?', reason: t('problemReason.unknown') };
  for (const [name, value] of Object.entries(p.params ?? {})) params[name] = value;
  if (p.params?.reason !== undefined) {
    const reasonKey = `problemReason.${String(p.params.reason)}` as MessageKey;
    params.reason = reasonKey in vi ? t(reasonKey) : String(p.params.reason);
  }
  return t(key, params);
}

/** A site's own time zone, from the sites registry (names.ts loads it); others show in the default zone. */
export function setSiteTimeZone(site: string, timeZone: string): void {
  siteTimeZones.set(site, timeZone);
}

export function timeZoneOf(site?: string): string {
  return (site && siteTimeZones.get(site)) || DEFAULT_TIME_ZONE;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function dateFormat(style: 'full' | 'time' | 'short' | 'hm', timeZone: string): Intl.DateTimeFormat {
  const key = `${lang}|${style}|${timeZone}`;
  let f = formatters.get(key);
  if (!f) {
    const opts: Intl.DateTimeFormatOptions =
      style === 'time'
        ? { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }
        : style === 'hm'
          ? { hour: '2-digit', minute: '2-digit', hour12: false }
          : style === 'short'
            ? { day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false }
            : // Four-digit years: vi-VN's short date style would write "26/11/26".
              {
                year: 'numeric',
                month: '2-digit',
                day: '2-digit',
                hour: '2-digit',
                minute: '2-digit',
                second: '2-digit',
                hour12: false,
              };
    f = new Intl.DateTimeFormat(LOCALES[lang], { ...opts, timeZone });
    formatters.set(key, f);
  }
  return f;
}

/** A date-time in the site's time zone and the user's language. */
export function formatDateTime(
  iso: string | null | undefined,
  site?: string,
  style: 'full' | 'time' | 'short' | 'hm' = 'full',
): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateFormat(style, timeZoneOf(site)).format(d);
}

/** A calendar date (YYYY-MM-DD, no time zone) with a four-digit year, in the user's language. */
export function formatDate(date: string | null | undefined): string {
  if (!date) return '—';
  const d = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return date;
  return new Intl.DateTimeFormat(LOCALES[lang], {
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    timeZone: 'UTC',
  }).format(d);
}

/** A duration for people: "1 giờ 5 phút", "12 phút", "40 giây". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '—';
  const s = Math.round(seconds);
  if (s < 60) return t('duration.seconds', { n: s });
  const m = Math.round(s / 60);
  if (m < 60) return t('duration.minutes', { n: m });
  const h = Math.floor(m / 60);
  return m % 60 ? t('duration.hoursMinutes', { h, m: m % 60 }) : t('duration.hours', { n: h });
}

export function formatNumber(n: number | null | undefined, maximumFractionDigits = 1): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  return new Intl.NumberFormat(LOCALES[lang], { maximumFractionDigits }).format(n);
}

export function formatPercent(pct: number | null | undefined): string {
  if (pct === null || pct === undefined) return '—';
  return new Intl.NumberFormat(LOCALES[lang], { style: 'percent', maximumFractionDigits: 2 }).format(pct / 100);
}

/** `2026-05-01T10:00` in the site's zone → ISO instant (for <input type="datetime-local">). */
export function localInputToIso(value: string, site?: string): string | undefined {
  if (!value) return undefined;
  const asUtc = Date.parse(`${value}:00Z`);
  if (Number.isNaN(asUtc)) return undefined;
  // The zone's offset at that moment: format the UTC guess in the zone and compare.
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timeZoneOf(site),
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(asUtc));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const zoned = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return new Date(asUtc - (zoned - asUtc)).toISOString();
}
