import { api, ApiError, ROLES, type Role, session, type User } from './api.js';

export interface Signed {
  user: User;
  /** The hub has no sign-in (auth not built or disabled): the API answers everyone. */
  open: boolean;
}

/** Claims of a JWT, if the token is one (used only when the hub has no /auth/me). */
function jwtClaims(token: string): Record<string, unknown> | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    return JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
  } catch (err) {
    console.warn('token is not a JWT', (err as Error).message);
    return null;
  }
}

/** Who is using the console: from /auth/me, else the token's claims, else (API open) nobody in particular. */
export async function resolveUser(): Promise<Signed | null> {
  try {
    return { user: await api.me(), open: false };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (err.status === 401) return null;
    if (!err.missingRoute) throw err;
  }
  const claims = session.token ? jwtClaims(session.token) : null;
  if (claims) {
    const roles = (Array.isArray(claims.roles) ? claims.roles : []).filter((r): r is Role =>
      (ROLES as readonly unknown[]).includes(r),
    );
    const sites = Array.isArray(claims.sites) && claims.sites.length > 0 ? claims.sites.map(String) : null;
    return { user: { username: String(claims.username ?? claims.sub ?? '?'), roles, sites }, open: false };
  }
  // No auth endpoints: if the API answers without a token, the hub is open (development, or auth not deployed).
  try {
    await api.cameras();
    return { user: { username: '—', roles: [...ROLES], sites: null }, open: true };
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

export async function signIn(username: string, password: string): Promise<Signed | null> {
  const token = await api.login(username, password);
  session.set(token);
  return resolveUser();
}

export async function signOut(): Promise<void> {
  try {
    await api.logout();
  } catch (err) {
    // The token is dropped either way; a failed logout call only means the server forgets it later.
    console.warn('logout failed', (err as Error).message);
  }
  session.set(null);
}
