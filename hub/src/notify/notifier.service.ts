import { randomUUID } from 'node:crypto';
import {
  type AlertNotificationPayload,
  type Delivery,
  SEVERITIES,
  type Webhook,
  type WebhookInput,
} from '@camhub/shared';
import type { AlertChange } from '../alerts/alert-changes.js';
import { SEVERITY_RANK } from '../alerts/rules.js';
import { NotFoundError } from '../errors.js';
import { DeliveryError, type NotificationChannel } from './channel.js';
import { type NotifyRepository, toWebhook } from './notify.repository.js';
import type { WebhookConfig } from './webhook.channel.js';

const EVENT_OF: Partial<Record<AlertChange['action'], AlertNotificationPayload['event']>> = {
  opened: 'alert.opened',
  acknowledged: 'alert.acknowledged',
  escalated: 'alert.escalated',
  resolved: 'alert.resolved',
  auto_resolved: 'alert.resolved',
  false_alarm: 'alert.resolved',
};

export interface AttemptResult {
  /** The delivery is settled (delivered, or failed for good): do not retry. */
  done: boolean;
  error?: DeliveryError;
}

/**
 * Notifications: which targets hear about an alert change, the delivery log, and one delivery attempt (run by the
 * `notify` queue worker, which retries with exponential backoff).
 */
export function createNotifier(deps: {
  repo: NotifyRepository;
  channels: Map<string, NotificationChannel>;
  /** Queues deliveries; the queue owns retries. */
  enqueue: (deliveryIds: string[]) => Promise<void>;
  /** WEBHOOK_URL/WEBHOOK_SECRET: a global webhook that hears every alert change. */
  globalWebhook: WebhookConfig | null;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());
  const { repo } = deps;
  const webhookChannel = deps.channels.get('webhook')!;

  return {
    /** Records one delivery per target of an alert change and queues them. */
    async onAlertChange(c: AlertChange): Promise<number> {
      const event = EVENT_OF[c.action];
      if (!event) return 0;
      const atOrBelow = SEVERITIES.filter((s) => SEVERITY_RANK[s] <= SEVERITY_RANK[c.alert.severity]);
      const targets = await repo.targetsFor(c.alert.ruleId, [...atOrBelow], c.extraTargets ?? []);
      const rows = [
        ...targets.map((t) => ({ targetId: t.id as string | null, channel: t.channel })),
        ...(deps.globalWebhook ? [{ targetId: null, channel: 'webhook' }] : []),
      ].map((t) => {
        const id = randomUUID();
        const payload: AlertNotificationPayload = { v: 1, id, event, at: c.at, alert: c.alert };
        return { id, ...t, alertId: c.alert.id, event, payload };
      });
      await repo.insertDeliveries(rows, now());
      await deps.enqueue(rows.map((r) => r.id));
      return rows.length;
    },

    /** One attempt at one delivery; `last` says the queue will not try again after this one. */
    async attempt(deliveryId: string, last: boolean): Promise<AttemptResult> {
      const d = await repo.delivery(deliveryId);
      if (!d || d.status === 'delivered' || d.status === 'failed') return { done: true };
      let config: unknown = null;
      if (d.targetId === null) config = deps.globalWebhook;
      else config = (await repo.target(d.targetId))?.config ?? null;
      const channel = deps.channels.get(d.channel);
      if (!config || !channel) {
        const error = new DeliveryError(config ? `no channel ${d.channel} in this hub` : 'target was removed', false);
        await repo.recordAttempt(deliveryId, { status: 'failed', error: error.message, httpStatus: null }, now());
        return { done: true, error };
      }
      const body = JSON.stringify(d.payload);
      try {
        const r = await channel.send(channel.parseConfig(config), {
          deliveryId,
          payload: d.payload as AlertNotificationPayload,
          body,
        });
        await repo.recordAttempt(deliveryId, { status: 'delivered', error: null, httpStatus: r.status ?? null }, now());
        return { done: true };
      } catch (err) {
        const error = err instanceof DeliveryError ? err : new DeliveryError((err as Error).message, true);
        const done = last || !error.retryable;
        await repo.recordAttempt(
          deliveryId,
          { status: done ? 'failed' : 'retrying', error: error.message, httpStatus: error.status ?? null },
          now(),
        );
        return { done, error };
      }
    },

    deliveries: (f: { status?: string; alertId?: string; limit?: number }): Promise<Delivery[]> =>
      repo.deliveries({ ...f, limit: f.limit ?? 100 }),

    async listWebhooks(): Promise<Webhook[]> {
      return (await repo.targets('webhook')).map(toWebhook);
    },

    async createWebhook(input: WebhookInput): Promise<Webhook> {
      const config = webhookChannel.parseConfig({ url: input.url, secret: input.secret }) as Record<string, unknown>;
      const row = await repo.insertTarget({
        channel: 'webhook',
        name: input.name,
        config,
        enabled: input.enabled ?? true,
        minSeverity: input.minSeverity ?? 'info',
        ruleIds: input.ruleIds ?? null,
      });
      return toWebhook(row);
    },

    async updateWebhook(id: string, patch: Partial<WebhookInput>): Promise<Webhook> {
      const cur = await repo.target(id);
      if (!cur || cur.channel !== 'webhook') throw new NotFoundError('webhook');
      const config = webhookChannel.parseConfig({
        url: patch.url ?? cur.config.url,
        secret: patch.secret ?? cur.config.secret,
      }) as Record<string, unknown>;
      const row = await repo.updateTarget(id, {
        channel: 'webhook',
        name: patch.name ?? cur.name,
        config,
        enabled: patch.enabled ?? cur.enabled,
        minSeverity: patch.minSeverity ?? cur.min_severity,
        ruleIds: patch.ruleIds === undefined ? cur.rule_ids : patch.ruleIds,
      });
      if (!row) throw new NotFoundError('webhook');
      return toWebhook(row);
    },

    async deleteWebhook(id: string): Promise<void> {
      const cur = await repo.target(id);
      if (!cur || cur.channel !== 'webhook' || !(await repo.deleteTarget(id))) throw new NotFoundError('webhook');
    },
  };
}
export type Notifier = ReturnType<typeof createNotifier>;
