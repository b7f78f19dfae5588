/**
 * Everything the hub says in codes, put into the user's words: alert reasons and titles, problems with what to do,
 * history entries, live actions, audit actions and API errors. The hub never sends sentences; unknown codes get a
 * generic phrase with the code (so a missing translation is visible, not an English sentence).
 */
import type { Alert, AlertHistoryEntry, ApiError, AuditEntry, Problem } from './api.js';
import { formatDateTime, formatNumber, label, type MessageKey, t } from './i18n/index.js';
import { placeName } from './names.js';

const has = (key: string): key is MessageKey => t(key as MessageKey) !== key;

type AlertLike = Pick<Alert, 'site' | 'camera' | 'reason' | 'condition' | 'ruleName'>;

/** What happened, short: "Xâm nhập", "Camera mất kết nối", "Hình bị đứng (…)". */
export function alertWhat(a: AlertLike): string {
  const reason = a.reason ?? (a.condition ? { code: a.condition, params: {} } : null);
  if (!reason) return t('reason.other', { rule: a.ruleName });
  const p = reason.params ?? {};
  if (reason.code === 'events') {
    const types = Array.isArray(p.types) ? (p.types as string[]) : [];
    return types.length ? types.map((ty) => label('type', ty)).join(', ') : t('reason.other', { rule: a.ruleName });
  }
  if (reason.code === 'clock_skew') {
    return t('reason.clock_skew', { seconds: formatNumber(Math.abs(Number(p.skewMs ?? 0)) / 1000) });
  }
  if (p.source === 'stream' && has(`reason.${reason.code}.stream`))
    return t(`reason.${reason.code}.stream` as MessageKey);
  if (has(`reason.${reason.code}`)) return t(`reason.${reason.code}` as MessageKey);
  return t('reason.other', { rule: a.ruleName });
}

/** What and where: "Xâm nhập — Sân trường · Trường THCS". */
export function alertTitle(a: AlertLike): string {
  return `${alertWhat(a)} — ${placeName(a.site, a.camera)}`;
}

export { problemText } from './i18n/index.js';

export function problemHelp(p: Pick<Problem, 'code'>): string {
  return has(`problemHelp.${p.code}`) ? t(`problemHelp.${p.code}` as MessageKey) : t('problemHelp.unknownCode');
}

export function actorText(actor: string | null | undefined): string {
  if (!actor) return '—';
  return actor === 'system' ? t('actor.system') : actor;
}

/** One history entry's details after its action: the person's note, or the system's reason in words. */
export function historyDetail(h: AlertHistoryEntry, site: string): string {
  const parts: string[] = [];
  const d = h.data ?? {};
  if (typeof d.reason === 'string' && has(`historyReason.${d.reason}`))
    parts.push(t(`historyReason.${d.reason}` as MessageKey));
  if (h.action === 'assigned')
    parts.push(d.assignee ? t('history.assignedTo', { user: String(d.assignee) }) : t('history.unassigned'));
  if (typeof d.events === 'number') parts.push(t('history.events', { count: formatNumber(d.events, 0) }));
  if (typeof d.since === 'string') parts.push(t('history.since', { time: formatDateTime(d.since, site) }));
  if (h.note) parts.push(h.note);
  return parts.join('; ');
}

/** A live alert change for the rail: "Cảnh báo mới", "lan đã xác nhận", "Thêm 2 sự kiện". */
export function liveActionText(action: string, actor: string | null, data: Record<string, unknown> | null): string {
  const params = { actor: actorText(actor), count: formatNumber(Number(data?.events ?? 0), 0) };
  return has(`live.${action}`) ? t(`live.${action}` as MessageKey, params) : label('alertAction', action);
}

export function auditActionText(a: Pick<AuditEntry, 'action' | 'target'>): string {
  if (a.action === 'api.request' && a.target && has(`auditRoute.${a.target}`)) {
    return t(`auditRoute.${a.target}` as MessageKey);
  }
  return has(`audit.${a.action}`) ? t(`audit.${a.action}` as MessageKey) : t('audit.unknownAction', { code: a.action });
}

/** An API failure in the user's words, with what to do; never the browser's or the hub's English message. */
export function errorText(err: Pick<ApiError, 'status' | 'code'>): string {
  if (has(`error.${err.code}`)) return t(`error.${err.code}` as MessageKey);
  if (err.code === 'network_error') return t('error.network');
  if (err.status === 403) return t('common.forbidden');
  if (err.status === 404) return t('error.notFound');
  if (err.status === 409) return t('error.conflict', { code: err.code });
  if (err.status >= 500) return t('error.server', { status: err.status });
  if (err.status >= 400) return t('error.invalid', { code: err.code });
  return t('error.other', { code: err.code });
}
