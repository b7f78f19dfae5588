/**
 * The console's one door to the hub API (/api/v1). Every request, response shape and shape adaptation lives here, so
 * the views never see a raw response and a change of the API is a change of this file only.
 */
import type {
  CameraItem,
  CameraViewStatus,
  EventItem,
  EventsPage,
  EventType,
  HealthSample,
  Problem,
} from '@camhub/shared';

export type { CameraItem, CameraViewStatus, EventItem, EventsPage, EventType, HealthSample, Problem };

export const ROLES = ['admin', 'operator', 'technician', 'police'] as const;
export type Role = (typeof ROLES)[number];

const EVENT_TYPE_SET = {
  motion: true,
  tamper: true,
  video_loss: true,
  line_crossing: true,
  intrusion: true,
  object: true,
  digital_input: true,
  storage_failure: true,
  other: true,
} satisfies Record<EventType, true>;
/** The contract's event types (checked against `shared` at compile time; no runtime import of the schemas). */
export const EVENT_TYPES = Object.keys(EVENT_TYPE_SET) as EventType[];

export const CAMERA_STATUSES = ['online', 'degraded', 'offline', 'unknown'] as const satisfies CameraViewStatus[];

/** A failed API call: the hub's `{error:{code,message}}`, or `network_error` when it could not be reached. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
  /** The endpoint does not exist on this hub (an older hub, or a feature not built yet). */
  get missingRoute(): boolean {
    return this.status === 404 && this.code === 'route_not_found';
  }
}

export interface User {
  username: string;
  roles: Role[];
  /** Sites the user is limited to; null: every site. */
  sites: string[] | null;
}

export interface TransitionsResult {
  items: { from: CameraViewStatus; to: CameraViewStatus; problems: Problem[]; at: string }[];
  uptime: { from: string; to: string; pct: number | null; seconds: Record<string, number> };
}

export type AlertStatus = 'open' | 'acknowledged' | 'resolved' | 'false_alarm';
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export const SEVERITY_ORDER: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

export interface AlertHistoryEntry {
  at: string;
  action: string;
  by: string | null;
  comment: string | null;
}

export interface Alert {
  id: string;
  site: string;
  camera: string;
  severity: string;
  status: string;
  title: string;
  openedAt: string;
  updatedAt: string | null;
  assignee: string | null;
  eventIds: string[];
  events: EventItem[];
  history: AlertHistoryEntry[];
}

export interface AdminUser {
  id: string;
  username: string;
  roles: Role[];
  sites: string[] | null;
  disabled: boolean;
}

export interface AuditEntry {
  at: string;
  actor: string | null;
  action: string;
  target: string | null;
  detail: string | null;
}

export interface Site {
  id: string;
  name: string;
  timeZone: string | null;
}

export interface ExportJob {
  id: string;
  status: string;
  downloadUrl: string | null;
}

const TOKEN_KEY = 'camhub.token';
let token: string | null = localStorage.getItem(TOKEN_KEY);
let onUnauthorized: () => void = () => undefined;

export const session = {
  get token() {
    return token;
  },
  set(value: string | null) {
    token = value;
    if (value) localStorage.setItem(TOKEN_KEY, value);
    else localStorage.removeItem(TOKEN_KEY);
  },
  /** Called when the hub says the token is no longer good (expired, revoked). */
  onUnauthorized(fn: () => void) {
    onUnauthorized = fn;
  },
};

type Query = Record<string, string | number | undefined | null>;

function url(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {}))
    if (v !== undefined && v !== null && v !== '') params.set(k, `${v}`);
  const qs = params.toString();
  return `/api/v1${path}${qs ? `?${qs}` : ''}`;
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  return token ? { ...extra, authorization: `Bearer ${token}` } : extra;
}

async function request(method: string, path: string, opts: { query?: Query; body?: unknown } = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url(path, opts.query), {
      method,
      headers: headers(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
      credentials: 'same-origin',
    });
  } catch (err) {
    throw new ApiError(0, 'network_error', (err as Error).message);
  }
  if (!res.ok) {
    let code = `http_${res.status}`;
    let message = res.statusText;
    try {
      const body = (await res.json()) as { error?: { code?: string; message?: string } };
      code = body.error?.code ?? code;
      message = body.error?.message ?? message;
    } catch (err) {
      // A proxy's HTML error page: keep the status line as the message.
      message = `${message} (${(err as Error).name})`;
    }
    if (res.status === 401 && path !== '/auth/login') onUnauthorized();
    throw new ApiError(res.status, code, message);
  }
  return res;
}

async function json<T>(method: string, path: string, opts: { query?: Query; body?: unknown } = {}): Promise<T> {
  const res = await request(method, path, opts);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

const get = <T>(path: string, query?: Query) => json<T>('GET', path, { query });
const post = <T>(path: string, body: unknown = {}) => json<T>('POST', path, { body });

type Raw = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const itemsOf = (v: unknown): Raw[] => arr(Array.isArray(v) ? v : (v as Raw | null)?.items) as Raw[];

function normalizeUser(raw: Raw): User {
  const u = (raw.user as Raw | undefined) ?? raw;
  const roles = arr(u.roles).filter((r): r is Role => (ROLES as readonly unknown[]).includes(r));
  const sites = Array.isArray(u.sites) && u.sites.length > 0 ? u.sites.map(String) : null;
  return { username: str(u.username) ?? str(u.name) ?? str(u.sub) ?? '?', roles, sites };
}

function normalizeAlert(raw: Raw): Alert {
  const events = itemsOf(raw.events) as unknown as EventItem[];
  const history = itemsOf(raw.history ?? raw.actions ?? raw.log).map((h) => ({
    at: str(h.at) ?? str(h.createdAt) ?? '',
    action: str(h.action) ?? str(h.type) ?? str(h.kind) ?? '',
    by: str(h.by) ?? str(h.actor) ?? str(h.user) ?? null,
    comment: str(h.comment) ?? str(h.text) ?? null,
  }));
  return {
    id: String(raw.id),
    site: str(raw.site) ?? '',
    camera: str(raw.camera) ?? '',
    severity: str(raw.severity) ?? 'info',
    status: str(raw.status) ?? str(raw.state) ?? 'open',
    title: str(raw.title) ?? str(raw.message) ?? str(raw.rule) ?? str(raw.ruleName) ?? str(raw.type) ?? '',
    openedAt: str(raw.openedAt) ?? str(raw.createdAt) ?? str(raw.at) ?? '',
    updatedAt: str(raw.updatedAt) ?? null,
    assignee: str(raw.assignee) ?? str(raw.assignedTo) ?? null,
    eventIds: arr(raw.eventIds)
      .map(String)
      .concat(events.map((e) => e.id)),
    events,
    history,
  };
}

/** The hub API, one function per call. */
export const api = {
  async login(username: string, password: string): Promise<string | null> {
    const body = await post<Raw>('/auth/login', { username, password });
    return str(body.token) ?? str(body.accessToken);
  },
  logout: () => post<void>('/auth/logout'),
  me: async (): Promise<User> => normalizeUser(await get<Raw>('/auth/me')),

  cameras: (q: { site?: string; status?: CameraViewStatus } = {}) =>
    get<{ items: CameraItem[] }>('/cameras', q).then((r) => r.items),
  health: (site: string, camera: string, from?: string, to?: string) =>
    get<{ items: HealthSample[] }>(`/cameras/${enc(site)}/${enc(camera)}/health`, { from, to }).then((r) => r.items),
  transitions: (site: string, camera: string, from?: string, to?: string) =>
    get<TransitionsResult>(`/cameras/${enc(site)}/${enc(camera)}/transitions`, { from, to }),

  events: (q: {
    site?: string;
    camera?: string;
    type?: string;
    from?: string;
    to?: string;
    limit?: number;
    cursor?: string;
  }) => get<EventsPage>('/events', q),
  event: (id: string) => get<EventItem>(`/events/${enc(id)}`),
  snapshotPath: (eventId: string) => url(`/events/${enc(eventId)}/snapshot`),

  alerts: async (q: { status?: string; site?: string } = {}): Promise<Alert[]> =>
    itemsOf(await get<Raw>('/alerts', q)).map(normalizeAlert),
  alert: async (id: string): Promise<Alert> => normalizeAlert(await get<Raw>(`/alerts/${enc(id)}`)),
  acknowledge: (id: string) => post<Raw>(`/alerts/${enc(id)}/ack`),
  assign: (id: string, assignee: string) => post<Raw>(`/alerts/${enc(id)}/assign`, { assignee }),
  comment: (id: string, text: string) => post<Raw>(`/alerts/${enc(id)}/comments`, { text }),
  resolve: (id: string, comment?: string) => post<Raw>(`/alerts/${enc(id)}/resolve`, comment ? { comment } : {}),
  falseAlarm: (id: string, comment?: string) => post<Raw>(`/alerts/${enc(id)}/false-alarm`, comment ? { comment } : {}),

  users: async (): Promise<AdminUser[]> =>
    itemsOf(await get<Raw>('/users')).map((u) => ({
      ...normalizeUser(u),
      id: String(u.id ?? u.username),
      disabled: u.disabled === true || u.active === false,
    })),
  createUser: (u: { username: string; password: string; roles: Role[]; sites: string[] | null }) =>
    post<Raw>('/users', { ...u, sites: u.sites ?? undefined }),
  sites: async (): Promise<Site[]> =>
    itemsOf(await get<Raw>('/sites')).map((s) => ({
      id: String(s.id ?? s.site),
      name: str(s.name) ?? String(s.id ?? s.site),
      timeZone: str(s.timeZone) ?? str(s.timezone) ?? str(s.tz),
    })),
  rules: async (): Promise<Raw[]> => itemsOf(await get<Raw>('/rules')),
  webhooks: async (): Promise<Raw[]> => itemsOf(await get<Raw>('/webhooks')),
  audit: async (
    q: { limit?: number; cursor?: string } = {},
  ): Promise<{ items: AuditEntry[]; nextCursor: string | null }> => {
    const body = await get<Raw>('/audit', q);
    return {
      items: itemsOf(body).map((a) => ({
        at: str(a.at) ?? str(a.createdAt) ?? '',
        actor: str(a.actor) ?? str(a.username) ?? str(a.user) ?? null,
        action: str(a.action) ?? '',
        target: str(a.target) ?? str(a.resource) ?? null,
        detail: a.detail === undefined || a.detail === null ? null : JSON.stringify(a.detail),
      })),
      nextCursor: str(body.nextCursor),
    };
  },

  startExport: async (q: { site?: string; camera?: string; type?: string; from?: string; to?: string }) => {
    const body = await post<Raw>('/exports', q);
    return normalizeExport(body);
  },
  exportStatus: async (id: string) => normalizeExport(await get<Raw>(`/exports/${enc(id)}`)),

  /** A protected binary (snapshot, export) as a blob: <img> and <a download> cannot send the Bearer header. */
  async blob(path: string): Promise<Blob> {
    const res = await request('GET', path.replace(/^\/api\/v1/, ''));
    return res.blob();
  },

  /** The live feed (SSE) as a stream: fetch rather than EventSource, because EventSource cannot send a header. */
  async live(signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const res = await fetch(url('/live'), { headers: headers({ accept: 'text/event-stream' }), signal });
    if (!res.ok || !res.body)
      throw new ApiError(
        res.status,
        res.status === 404 ? 'route_not_found' : 'live_failed',
        `live feed: ${res.status}`,
      );
    return res.body;
  },
};

function normalizeExport(raw: Raw): ExportJob {
  const e = (raw.export as Raw | undefined) ?? raw;
  return {
    id: String(e.id),
    status: str(e.status) ?? str(e.state) ?? 'queued',
    downloadUrl:
      str(e.downloadUrl) ??
      str(e.url) ??
      (e.status === 'ready' || e.status === 'done' ? url(`/exports/${enc(String(e.id))}/download`) : null),
  };
}

function enc(s: string): string {
  return encodeURIComponent(s);
}
