import { api, ApiError, ROLES, type User } from './api.js';

export interface Signed {
  user: User;
  /** The hub has no sign-in (an older hub): the API answers everyone, so the console shows everything. */
  open: boolean;
}

/** Who is using the console: the session cookie's user, null when nobody is signed in. */
export async function resolveUser(): Promise<Signed | null> {
  try {
    return { user: await api.me(), open: false };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (err.status === 401) return null;
    if (!err.missingRoute) throw err;
  }
  // No auth endpoints: if the API answers without a session, the hub is open.
  try {
    await api.cameras();
    return { user: { username: '—', roles: [...ROLES], sites: null }, open: true };
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

export async function signIn(username: string, password: string): Promise<Signed | null> {
  await api.login(username, password);
  return resolveUser();
}

export async function signOut(): Promise<void> {
  try {
    await api.logout();
  } catch (err) {
    // The cookies expire on their own; a failed logout only means the hub forgets the session later.
    console.warn('logout failed', (err as Error).message);
  }
}
