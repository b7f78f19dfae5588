import type { NotificationChannel } from './channel.js';
import type { NotifyRepository, TargetRow } from './notify.repository.js';
import type { SecretBox } from './secrets.js';
import { redactUrl } from './url-redaction.js';

/**
 * A target's settings are stored in two halves: what may be shown (`config`) and its channel's secret fields,
 * sealed with the hub key and bound to the target id (`secrets`). Rows written before sealing existed (webhook
 * secrets in `config`) still open: the halves are merged.
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
      if (fieldsOf(channel).includes(k)) {
        if (typeof v === 'string' && v !== '') secret[k] = v;
      } else open[k] = v;
    }
    return {
      config: open,
      secrets: Object.keys(secret).length ? box.seal(secret, id) : null,
      secretNames: Object.keys(secret),
    };
  }

  function open(row: Pick<TargetRow, 'id' | 'config' | 'secrets'>): Record<string, unknown> {
    return { ...row.config, ...(row.secrets ? box.open(row.secrets, row.id) : {}) };
  }

  return {
    split,
    open,
    /** Names of the secret fields that hold a value (shown as "set", never their value). */
    secretNames(row: TargetRow): string[] {
      const merged = open(row);
      return fieldsOf(row.channel).filter((k) => typeof merged[k] === 'string' && merged[k] !== '');
    },
    /** Public settings only: what the API may return (a password inside a URL redacted, see url-redaction.ts). */
    publicConfig(row: TargetRow): Record<string, unknown> {
      return Object.fromEntries(
        Object.entries(row.config)
          .filter(([k]) => !fieldsOf(row.channel).includes(k))
          .map(([k, v]) => [k, typeof v === 'string' && /^https?:\/\//i.test(v) ? redactUrl(v) : v]),
      );
    },
    /** For a channel that rotates its credentials (Zalo): re-reads, updates and re-seals them under a row lock. */
    updater<C>(channel: NotificationChannel<C>, id: string) {
      return (update: (current: C) => Promise<C>): Promise<C> =>
        repo.withTargetLocked(id, async (row, save) => {
          const current = channel.parseConfig(open(row));
          const next = await update(current);
          if (next !== current) {
            const s = split(row.channel, id, next as Record<string, unknown>);
            await save(s.secrets);
          }
          return next;
        });
    },
  };
}
export type TargetSecrets = ReturnType<typeof createTargetSecrets>;
