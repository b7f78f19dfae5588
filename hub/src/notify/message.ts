import type { AlertNotificationPayload, DigestNotificationPayload, NotifyLanguage } from '@camhub/shared';
import { en } from './templates/en.js';
import { type TemplateKey, vi } from './templates/vi.js';

const CATALOGUES: Record<NotifyLanguage, Record<TemplateKey, string>> = { vi, en };

/** What the hub knows around an alert that the payload does not carry: names, zone, the newest event's type. */
export interface MessageContext {
  language: NotifyLanguage;
  siteName: string;
  cameraName: string | null;
  timeZone: string;
  /** The console's public address (CONSOLE_URL); no link without it. */
  consoleUrl: string | null;
  eventType: string | null;
  /** The event whose clip the message links to (on the camera's page, which plays it once it is at the hub). */
  clip?: { event: string; camera: string } | null;
}

/** A message for people: a subject (e-mail, first line) and a plain-text body (every channel). */
export interface RenderedMessage {
  subject: string;
  text: string;
  /** The parts one by one, for channels that fill a registered template (Zalo ZNS): what, where, time, severity, link. */
  fields: Record<string, string>;
}

function translator(language: NotifyLanguage) {
  const cat = CATALOGUES[language];
  const t = (key: string, params: Record<string, string | number> = {}) => {
    const text = (cat as Record<string, string>)[key] ?? (vi as Record<string, string>)[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (_, n: string) => (n in params ? String(params[n]) : `{${n}}`));
  };
  /** A catalogue word for a value from an open set, or the value itself. */
  const word = (prefix: string, value: string) => {
    const key = `${prefix}.${value}`;
    return key in cat ? t(key) : value;
  };
  return { t, word };
}

export function formatTime(iso: string, language: NotifyLanguage, timeZone: string): string {
  const f = new Intl.DateTimeFormat(CATALOGUES[language].locale, {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  return `${f.format(new Date(iso))} (${timeZone})`;
}

function whatOf(
  p: { alert: AlertNotificationPayload['alert'] },
  ctx: MessageContext,
  word: (a: string, b: string) => string,
) {
  if (p.alert.condition) return word('condition', p.alert.condition);
  if (ctx.eventType) return word('type', ctx.eventType);
  return p.alert.ruleName;
}

function whereOf(ctx: MessageContext, t: (k: string) => string) {
  return `${ctx.cameraName ?? t('wholeSite')} – ${ctx.siteName}`;
}

export function alertLink(consoleUrl: string | null, alertId: string): string | null {
  return consoleUrl ? `${consoleUrl.replace(/\/+$/, '')}/#/alerts/${encodeURIComponent(alertId)}` : null;
}

/** The camera's page in the console with the event's clip chosen (it plays once the clip is at the hub). */
export function clipLink(consoleUrl: string | null, site: string, clip: { event: string; camera: string }) {
  if (!consoleUrl) return null;
  const path = [site, clip.camera].map(encodeURIComponent).join('/');
  return `${consoleUrl.replace(/\/+$/, '')}/#/camera/${path}?clip=${encodeURIComponent(clip.event)}`;
}

/** One alert change, in the target's language, on the site's wall clock. */
export function renderAlert(p: AlertNotificationPayload, ctx: MessageContext): RenderedMessage {
  const { t, word } = translator(ctx.language);
  const a = p.alert;
  const what = whatOf(p, ctx, word);
  const where = whereOf(ctx, t);
  const severity = word('severity', a.severity);
  const lines = [
    `${t(`event.${p.event}`)}: ${what}`,
    t('line.what', { what, rule: a.ruleName }),
    t('line.where', { where }),
    t('line.when', { time: formatTime(p.event === 'alert.opened' ? a.openedAt : p.at, ctx.language, ctx.timeZone) }),
    t('line.severity', { severity }),
  ];
  if (a.eventCount > 1) lines.push(t('line.events', { count: a.eventCount }));
  if (p.event === 'alert.acknowledged' && a.acknowledgedBy)
    lines.push(t('line.acknowledged', { user: a.acknowledgedBy }));
  if (p.event === 'alert.resolved' && a.resolution) {
    lines.push(t('line.resolved', { resolution: word('resolution', a.resolution), user: a.resolvedBy ?? '' }));
  }
  const link = alertLink(ctx.consoleUrl, a.id);
  if (link) lines.push(t('line.link', { url: link }));
  const clip = ctx.clip ? clipLink(ctx.consoleUrl, a.site, ctx.clip) : null;
  if (clip) lines.push(t('line.clip', { url: clip }));
  const time = formatTime(p.event === 'alert.opened' ? a.openedAt : p.at, ctx.language, ctx.timeZone);
  return {
    subject: t('subject', { severity, what, where }),
    text: lines.join('\n'),
    fields: { what, where, time, severity, link: link ?? '', status: t(`event.${p.event}`) },
  };
}

/** The summary a rate-limited target gets at the end of its window: the newest alert in full, and how many more. */
export function renderDigest(p: DigestNotificationPayload, ctx: MessageContext, targetName: string): RenderedMessage {
  const { t, word } = translator(ctx.language);
  const latest = renderAlert({ v: 1, id: p.id, event: 'alert.opened', at: p.alert.openedAt, alert: p.alert }, ctx);
  const minutes = Math.max(1, Math.round((Date.parse(p.windowEnd) - Date.parse(p.windowStart)) / 60_000));
  const subject = t('digest.subject', {
    severity: word('severity', p.alert.severity),
    count: p.count,
    minutes,
    target: targetName,
  });
  const lines = [t('event.alert.digest'), t('digest.latest'), latest.text];
  if (p.count > 1) lines.push(t('digest.more', { count: p.count - 1 }));
  return {
    subject,
    text: lines.join('\n'),
    fields: { ...latest.fields, status: t('digest.more', { count: p.count - 1 }) },
  };
}

export function renderTest(targetName: string, language: NotifyLanguage): RenderedMessage {
  const { t } = translator(language);
  const text = t('test.body', { target: targetName });
  return {
    subject: t('test.subject'),
    text,
    fields: { what: t('test.subject'), where: targetName, time: '', severity: '', link: '', status: text },
  };
}
