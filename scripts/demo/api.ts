import { DemoError } from './errors.js';

export class HubApiError extends DemoError {
  constructor(
    readonly status: number,
    path: string,
    detail: string,
  ) {
    super('hub_api', `GET ${path}: HTTP ${status} ${detail}`);
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

  private fetch(path: string): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    return fetch(`${this.baseUrl}${path}`, { headers, signal: AbortSignal.timeout(5000) });
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
