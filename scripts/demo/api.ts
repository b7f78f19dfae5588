import { DemoError } from './errors.js';

export class HubApiError extends DemoError {
  constructor(
    readonly status: number,
    path: string,
    detail: string,
  ) {
    super('hub_api', `${path.includes(' ') ? path : `GET ${path}`}: HTTP ${status} ${detail}`);
  }
}

/**
 * The little of the hub's API the demo reads for its status lines. Works before and after access control: on a 401 it
 * logs in as the demo's admin (POST /api/v1/auth/login) and retries with the bearer token.
 */
export class HubApi {
  private token: string | null = null;
  /** Set once the hub has answered a 401: logins are needed, and the printed curl lines say how. */
  authRequired = false;

  constructor(
    readonly baseUrl: string,
    private readonly username: string,
    private readonly password: string,
  ) {}

  async get<T>(path: string): Promise<T> {
    let res = await this.fetch(path);
    if (res.status === 401) {
      this.authRequired = true;
      await this.login();
      res = await this.fetch(path);
    }
    if (!res.ok) throw new HubApiError(res.status, path, (await res.text()).slice(0, 200));
    return (await res.json()) as T;
  }

  /** PUT/POST a JSON body, logging in first when the hub asks. */
  async send<T>(method: 'PUT' | 'POST', path: string, body: unknown): Promise<T> {
    let res = await this.fetch(path, method, body);
    if (res.status === 401) {
      this.authRequired = true;
      await this.login();
      res = await this.fetch(path, method, body);
    }
    if (!res.ok) throw new HubApiError(res.status, `${method} ${path}`, (await res.text()).slice(0, 200));
    return (await res.json()) as T;
  }

  private fetch(path: string, method = 'GET', body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
  }

  private async login(): Promise<void> {
    const res = await fetch(`${this.baseUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: this.username, password: this.password }),
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new HubApiError(res.status, '/api/v1/auth/login', (await res.text()).slice(0, 200));
    this.token = ((await res.json()) as { token: string }).token;
  }

  /** A curl command line for `path`, with the token step when the hub needs a login. */
  curl(path: string): string {
    return this.authRequired
      ? `curl -s -H "authorization: Bearer $TOKEN" '${this.baseUrl}${path}'`
      : `curl -s '${this.baseUrl}${path}'`;
  }

  loginCurl(): string {
    return (
      `TOKEN=$(curl -s -X POST ${this.baseUrl}/api/v1/auth/login -H 'content-type: application/json' ` +
      `-d '{"username":"${this.username}","password":"${this.password}"}' | sed -E 's/.*"token":"([^"]+)".*/\\1/')`
    );
  }
}

export interface CameraView {
  site: string;
  camera: string;
  name: string;
  status: 'online' | 'degraded' | 'offline' | 'unknown';
  problems: { code: string; message?: string }[];
  health: { at: string } | null;
}

export interface EventView {
  id: string;
  site: string;
  camera: string;
  type: string;
  state: string;
  at: string;
}

interface RuleView {
  id: string;
  kind: 'event' | 'health';
  name: string;
  description: string | null;
  enabled: boolean;
  severity: string;
  sites: string[] | null;
  cameras: string[] | null;
  condition: string | null;
  forSec: number;
  boundMs: number | null;
  escalateAfterSec: number | null;
}

/**
 * The default "camera offline" rule waits 5 minutes, longer than the demo's scripted outage (60 s). The demo shortens
 * it, through the same admin API a person would use, so that the outage produces its alert while one watches.
 */
export async function shortenOfflineRule(api: HubApi, forSec: number): Promise<string | null> {
  const { items } = await api.get<{ items: RuleView[] }>('/api/v1/alert-rules');
  const rule = items.find((r) => r.kind === 'health' && r.condition === 'camera_offline');
  if (!rule) return null;
  await api.send('PUT', `/api/v1/alert-rules/${rule.id}`, {
    kind: 'health',
    name: rule.name,
    description: `${rule.description ?? ''} (demo: ${forSec} giây thay vì ${rule.forSec} giây)`.trim(),
    enabled: true,
    severity: rule.severity,
    sites: rule.sites,
    cameras: rule.cameras,
    condition: rule.condition,
    forSec,
    boundMs: rule.boundMs,
    escalateAfterSec: rule.escalateAfterSec,
  });
  return rule.name;
}
