import type { NotificationChannel } from './channel.js';
import type { NotifyRepository, TargetRow } from './notify.repository.js';
import type { SecretBox } from './secrets.js';
import { redactUrl } from './url-redaction.js';

/**
 * Where the password of a URL setting is kept among the sealed secrets: `url` → `url#password`. The URL stored in
 * `config` keeps its scheme, user, host and path (what an admin may see), without the password.
 */
const URL_PASSWORD_SUFFIX = '#password';
const isUrlPasswordKey = (k: string) => k.endsWith(URL_PASSWORD_SUFFIX);

/** A URL with a password inside it (`https://user:pass@host/`), split into the URL without it and the password. */
function splitUrlPassword(value: unknown): { url: string; password: string } | null {
  if (typeof value !== 'string' || !/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return null;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return null;
  }
  if (!u.password) return null;
  const password = u.password; // as the URL writes it (percent-encoded): put back as is
  u.password = '';
  return { url: u.toString(), password };
}

function withUrlPassword(url: string, password: string): string {
  try {
    const u = new URL(url);
    u.password = password;
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * A target's settings are stored in two halves: what may be shown (`config`) and what may not, sealed with the hub
 * key and bound to the target id (`secrets`): its channel's secret fields and the password of any URL setting (a
 * webhook's `https://user:pass@host/`). Rows written before either was sealed (webhook secrets and URL passwords in
 * `config`) still open, and `sealLegacy` moves them into `secrets` at the hub's start.
 */
export function createTargetSecrets(
  box: SecretBox,
  repo: NotifyRepository,
  channels: Map<string, NotificationChannel>,
) {
  const fieldsOf = (channel: string) => channels.get(channel)?.secretFields ?? [];

  function split(channel: string, id: string, config: Record<string, unknown>) {
    const open: Record<string, unknown> = {};
    const secret: Record<string, string> = {};
    for (const [k, v] of Object.entries(config)) {
      if (isUrlPasswordKey(k)) continue; // only ever made here, from the URL beside it
      if (fieldsOf(channel).includes(k)) {
        if (typeof v === 'string' && v !== '') secret[k] = v;
        continue;
      }
      const withPassword = splitUrlPassword(v);
      if (withPassword) {
        open[k] = withPassword.url;
        secret[`${k}${URL_PASSWORD_SUFFIX}`] = withPassword.password;
      } else open[k] = v;
    }
    return {
      config: open,
      secrets: Object.keys(secret).length ? box.seal(secret, id) : null,
      secretNames: Object.keys(secret).filter((k) => !isUrlPasswordKey(k)),
    };
  }

  /** The settings as the channel uses them: secrets merged back, URL passwords put back into their URLs. */
  function open(row: Pick<TargetRow, 'id' | 'config' | 'secrets'>): Record<string, unknown> {
    const sealed = row.secrets ? box.open(row.secrets, row.id) : {};
    const merged: Record<string, unknown> = { ...row.config };
    for (const [k, v] of Object.entries(sealed)) {
      if (!isUrlPasswordKey(k)) merged[k] = v;
      else {
        const field = k.slice(0, -URL_PASSWORD_SUFFIX.length);
        if (typeof merged[field] === 'string') merged[field] = withUrlPassword(merged[field], v);
      }
    }
    return merged;
  }

  /** Whether a stored row still keeps something in clear that `split` would seal (written before it did). */
  function hasClearSecrets(row: TargetRow): boolean {
    return Object.entries(row.config).some(
      ([k, v]) => (fieldsOf(row.channel).includes(k) && v !== undefined) || splitUrlPassword(v) !== null,
    );
  }

  return {
    split,
    open,
    hasClearSecrets,
    /** Names of the secret fields that hold a value (shown as "set", never their value). */
    secretNames(row: TargetRow): string[] {
      const merged = open(row);
      return fieldsOf(row.channel).filter((k) => typeof merged[k] === 'string' && merged[k] !== '');
    },
    /**
     * Public settings only: what the API may return. A URL that has a password shows the marker in its place
     * (`https://bob:redacted@host/`, see url-redaction.ts), so that the console can send it back unchanged.
     */
    publicConfig(row: TargetRow): Record<string, unknown> {
      const merged = open(row);
      return Object.fromEntries(
        Object.keys(row.config)
          .filter((k) => !fieldsOf(row.channel).includes(k))
          .map((k) => {
            const v = merged[k];
            return [k, typeof v === 'string' && splitUrlPassword(v) ? redactUrl(v) : v];
          }),
      );
    },
    /** For a channel that rotates its credentials (Zalo): re-reads, updates and re-seals them under a row lock. */
    updater<C>(channel: NotificationChannel<C>, id: string) {
      return (update: (current: C) => Promise<C>): Promise<C> =>
        repo.withTargetLocked(id, async (row, save) => {
          const current = channel.parseConfig(open(row));
          const next = await update(current);
          if (next !== current) {
            // The whole settings, not only the channel's: a URL password sealed beside them must stay.
            const s = split(row.channel, id, { ...open(row), ...(next as Record<string, unknown>) });
            await save(s.secrets);
          }
          return next;
        });
    },
    /**
     * Seals what rows written by older hubs keep in clear (webhook secrets and URL passwords in `config`). Run at
     * every start; each row is re-read under its lock, so hubs starting together do it once. Returns the ids sealed.
     */
    async sealLegacy(): Promise<{ sealed: string[]; failed: { id: string; error: string }[] }> {
      const sealed: string[] = [];
      const failed: { id: string; error: string }[] = [];
      for (const candidate of await repo.targets()) {
        if (!hasClearSecrets(candidate)) continue;
        try {
          const done = await repo.withTargetLocked(candidate.id, async (row, _save, replace) => {
            if (!hasClearSecrets(row)) return false;
            const s = split(row.channel, row.id, open(row));
            await replace(s.config, s.secrets);
            return true;
          });
          if (done) sealed.push(candidate.id);
        } catch (err) {
          // A row sealed under another hub key, or removed meanwhile: the others are still sealed.
          failed.push({ id: candidate.id, error: (err as Error).message });
        }
      }
      return { sealed, failed };
    },
  };
}
export type TargetSecrets = ReturnType<typeof createTargetSecrets>;
