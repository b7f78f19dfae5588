/**
 * The console's one door to the hub API (/api/v1). Every request, response shape and shape adaptation lives here, so
 * the views never see a raw response and a change of the API is a change of this file only.
 */
import type {
  AlertDetail as SharedAlertDetail,
  AlertHistoryEntry,
  Alert as SharedAlert,
  AlertRule,
  AlertRuleInput,
  AuditEntry,
  CameraClip,
  CameraItem,
  CameraViewStatus,
  EventItem,
  EventsPage,
  EventType,
  ExportItem,
  HealthSample,
  Problem,
  Target,
  TargetInput,
  TargetPatch,
  Report,
  Site,
  SiteInput,
  SiteKind,
  SitePatch,
  UserItem,
  VideoProfile,
  VideoSettings,
  Webhook,
  AdoptCameraInput,
  CameraPatch,
  DiscoveredCamera,
  RegistryCamera,
  SiteCameras,
} from '@camhub/shared';

export type {
  AdoptCameraInput,
  CameraPatch,
  DiscoveredCamera,
  RegistryCamera,
  SiteCameras,
  AlertHistoryEntry,
  AlertRule,
  AlertRuleInput,
  AuditEntry,
  CameraItem,
  CameraViewStatus,
  EventItem,
  EventsPage,
  EventType,
  ExportItem,
  HealthSample,
  Problem,
  Target,
  TargetInput,
  Report,
  Site,
  SiteInput,
  SiteKind,
  SitePatch,
  UserItem,
  VideoProfile,
  VideoSettings,
  Webhook,
};

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

/**
 * What the console shows as an alert's state: the hub's status, with a false alarm and a close by the system (its
 * condition cleared) told apart from a person's resolution.
 */
export type AlertState = SharedAlert['status'] | 'false_alarm' | 'auto_resolved';
export type Alert = SharedAlert & { state: AlertState };
export type AlertDetail = SharedAlertDetail & { state: AlertState };
export const SEVERITY_ORDER: Record<SharedAlert['severity'], number> = { critical: 0, warning: 1, info: 2 };

export const withState = <T extends SharedAlert>(a: T): T & { state: AlertState } => ({
  ...a,
  state:
    a.status !== 'resolved'
      ? a.status
      : a.resolution === 'false_alarm'
        ? 'false_alarm'
        : a.resolution === 'auto'
          ? 'auto_resolved'
          : 'resolved',
});

let onUnauthorized: () => void = () => undefined;

/**
 * The session lives in the hub's httpOnly cookies (login with `cookie: true`): no token in page storage for a script
 * to steal, and <img>/downloads authenticate by themselves. An expired access cookie is renewed once per failure.
 */
export const session = {
  /** Called when the session is gone for good (refresh refused): the console shows the login again. */
  onUnauthorized(fn: () => void) {
    onUnauthorized = fn;
  },
};

type Query = Record<string, string | number | string[] | undefined | null>;

function url(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    // A list is the parameter repeated (site=a&site=b), as the hub's query schemas take it.
    if (Array.isArray(v)) for (const item of v) params.append(k, item);
    else if (v !== undefined && v !== null && v !== '') params.set(k, `${v}`);
  }
  const qs = params.toString();
  return `/api/v1${path}${qs ? `?${qs}` : ''}`;
}

let refreshing: Promise<boolean> | null = null;

/** One refresh at a time, however many requests found the access cookie expired together. */
function refreshSession(): Promise<boolean> {
  refreshing ??= fetch(url('/auth/refresh'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    credentials: 'same-origin',
  })
    .then((r) => r.ok)
    .catch(() => false)
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

const NO_REFRESH = new Set(['/auth/login', '/auth/refresh', '/auth/logout']);

type RequestOptions = { query?: Query; body?: unknown; signal?: AbortSignal };

async function send(method: string, path: string, opts: RequestOptions): Promise<Response> {
  try {
    return await fetch(url(path, opts.query), {
      method,
      headers: opts.body !== undefined ? { 'content-type': 'application/json' } : {},
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
      credentials: 'same-origin',
      signal: opts.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'network_error', (err as Error).message);
  }
}

async function request(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
  let res = await send(method, path, opts);
  if (res.status === 401 && !NO_REFRESH.has(path) && (await refreshSession())) res = await send(method, path, opts);
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
    if (res.status === 401 && !NO_REFRESH.has(path) && path !== '/auth/me') onUnauthorized();
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
const patch = <T>(path: string, body: unknown) => json<T>('PATCH', path, { body });

const enc = encodeURIComponent;

function toUser(u: UserItem): User {
  return { username: u.username, roles: u.roles, sites: u.sites };
}

/** The hub API, one function per call. */
export const api = {
  login: (username: string, password: string) =>
    post<{ expiresAt: string }>('/auth/login', { username, password, cookie: true }),
  logout: () => post<void>('/auth/logout'),
  me: async (): Promise<User> => toUser(await get<UserItem>('/auth/me')),

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
  videoSettings: () => get<VideoSettings>('/video/settings'),
  /** A camera's live video: the open response (fragmented MP4; its Content-Type names the codec). */
  liveVideo: (site: string, camera: string, profile: VideoProfile, signal: AbortSignal) =>
    request('GET', `/video/live/${enc(site)}/${enc(camera)}`, { query: { profile }, signal }),
  snapshotPath: (eventId: string) => url(`/events/${enc(eventId)}/snapshot`),
  /** The clip's address for a <video> element: the session cookie authenticates it, and it seeks by HTTP Range. */
  clipPath: (eventId: string) => url(`/events/${enc(eventId)}/clip`),
  /** A camera's clips of the last 24 hours, newest first. */
  cameraClips: (site: string, camera: string) =>
    get<{ items: CameraClip[] }>(`/cameras/${enc(site)}/${enc(camera)}/clips`).then((r) => r.items),

  alerts: async (q: { status?: SharedAlert['status']; site?: string; limit?: number } = {}): Promise<Alert[]> =>
    (await get<{ items: SharedAlert[] }>('/alerts', q)).items.map(withState),
  alert: async (id: string): Promise<AlertDetail> => withState(await get<SharedAlertDetail>(`/alerts/${enc(id)}`)),
  acknowledge: (id: string) => post<SharedAlert>(`/alerts/${enc(id)}/ack`, {}),
  assign: (id: string, assignee: string | null) => post<SharedAlert>(`/alerts/${enc(id)}/assign`, { assignee }),
  comment: (id: string, note: string) => post<SharedAlert>(`/alerts/${enc(id)}/comments`, { note }),
  resolve: (id: string, note?: string) => post<SharedAlert>(`/alerts/${enc(id)}/resolve`, note ? { note } : {}),
  falseAlarm: (id: string, note?: string) => post<SharedAlert>(`/alerts/${enc(id)}/false-alarm`, note ? { note } : {}),

  users: () => get<{ items: UserItem[] }>('/users').then((r) => r.items),
  createUser: (u: { username: string; password: string; roles: Role[]; sites: string[] | null }) =>
    post<UserItem>('/users', u),
  /** Roles, sites, a new password or locking: a new password or a lock ends the user's sessions. */
  updateUser: (
    username: string,
    changes: { roles?: Role[]; sites?: string[] | null; password?: string; disabled?: boolean },
  ) => patch<UserItem>(`/users/${enc(username)}`, changes),
  /** The sites registry: registered units and the ones the hub only heard from (`registered: false`). */
  sites: () => get<{ items: Site[] }>('/sites').then((r) => r.items),
  createSite: (site: SiteInput) => post<Site>('/sites', site),
  /** The committee's report; `sites` empty: every site the user may see. */
  report: (q: { from: string; to: string; sites: string[] }) =>
    get<Report>('/reports/summary', { from: q.from, to: q.to, site: q.sites }),
  /** The same report as a CSV download (the session cookie authenticates the plain link). */
  reportCsvUrl: (q: { from: string; to: string; sites: string[] }) =>
    url('/reports/summary.csv', { from: q.from, to: q.to, site: q.sites }),
  updateSite: (id: string, changes: SitePatch) => patch<Site>(`/sites/${enc(id)}`, changes),
  /** A site's cameras registry: names, what its agent runs, cameras it discovered (passwords never come back). */
  siteCameras: (site: string) => get<SiteCameras>(`/sites/${enc(site)}/cameras`),
  adoptCamera: (site: string, input: AdoptCameraInput) => post<RegistryCamera>(`/sites/${enc(site)}/cameras`, input),
  updateCamera: (site: string, camera: string, changes: CameraPatch) =>
    patch<RegistryCamera>(`/sites/${enc(site)}/cameras/${enc(camera)}`, changes),
  removeCamera: (site: string, camera: string) => json<void>('DELETE', `/sites/${enc(site)}/cameras/${enc(camera)}`),
  rules: () => get<{ items: AlertRule[] }>('/alert-rules').then((r) => r.items),
  createRule: (rule: AlertRuleInput) => post<AlertRule>('/alert-rules', rule),
  /** A rule replaced whole (the hub's PUT): every field is sent, as the editor holds them all. */
  replaceRule: (id: string, rule: AlertRuleInput) => json<AlertRule>('PUT', `/alert-rules/${enc(id)}`, { body: rule }),
  deleteRule: (id: string) => json<void>('DELETE', `/alert-rules/${enc(id)}`),
  webhooks: () => get<{ items: Webhook[] }>('/webhooks').then((r) => r.items),
  targets: () => get<{ items: Target[] }>('/notification-targets').then((r) => r.items),
  createTarget: (t: TargetInput) => post<Target>('/notification-targets', t),
  updateTarget: (id: string, patch: TargetPatch) =>
    json<Target>('PATCH', `/notification-targets/${enc(id)}`, { body: patch }),
  deleteTarget: (id: string) => json<void>('DELETE', `/notification-targets/${enc(id)}`),
  testTarget: (id: string) =>
    post<{
      ok: boolean;
      /** Technical detail (service text): shown through `code`, never as it is. */
      error: string | null;
      code: string | null;
      params: Record<string, string | number> | null;
      status: number | null;
    }>(`/notification-targets/${enc(id)}/test`),
  audit: (q: { limit?: number; before?: number } = {}) =>
    get<{ items: AuditEntry[]; nextBefore: number | null }>('/audit', q),

  /** Builds the evidence archive of the events matching the filters; the hub answers with the zip itself. */
  async exportEvidence(q: {
    site?: string;
    camera?: string;
    type?: string;
    from?: string;
    to?: string;
    reason?: string;
  }): Promise<{ blob: Blob; id: string | null; sha256: string | null }> {
    const res = await request('POST', '/exports', { body: q });
    return {
      blob: await res.blob(),
      id: res.headers.get('x-camhub-export-id'),
      sha256: res.headers.get('x-camhub-export-sha256'),
    };
  },

  /** A protected binary (snapshot) as a blob, so a snapshot still being uploaded can be retried. */
  async blob(path: string): Promise<Blob> {
    const res = await request('GET', path.replace(/^\/api\/v1/, ''));
    return res.blob();
  },

  /** The live feed (SSE) as a stream; fetch, so an expired session is refreshed like any other call. */
  async live(signal: AbortSignal, lastEventId: string | null): Promise<ReadableStream<Uint8Array>> {
    const open = () =>
      fetch(url('/live'), {
        headers: lastEventId
          ? { accept: 'text/event-stream', 'last-event-id': lastEventId }
          : { accept: 'text/event-stream' },
        credentials: 'same-origin',
        signal,
      });
    let res = await open();
    if (res.status === 401 && (await refreshSession())) res = await open();
    if (!res.ok || !res.body) {
      throw new ApiError(
        res.status,
        res.status === 404 ? 'route_not_found' : 'live_failed',
        `live feed: ${res.status}`,
      );
    }
    return res.body;
  },
};
