import { randomUUID } from 'node:crypto';
import {
  type AlertNotificationPayload,
  type Delivery,
  type DigestNotificationPayload,
  SEVERITIES,
} from '@camhub/shared';
import type { AlertChange } from '../bus.js';
import { SEVERITY_RANK } from '../alerts/rules.js';
import {
  DeliveryError,
  type NotificationChannel,
  type NotificationPayload,
  type OutgoingNotification,
} from './channel.js';
import { type MessageContext, renderAlert, renderDigest, type RenderedMessage } from './message.js';
import type { Failure, NewDelivery, NotifyRepository, TargetRow } from './notify.repository.js';
import { quietUntil, rateWindow } from './quiet-hours.js';
import type { TargetSecrets } from './target-secrets.js';
import type { WebhookConfig } from './webhook.channel.js';

const EVENT_OF: Partial<Record<AlertChange['action'], AlertNotificationPayload['event']>> = {
  opened: 'alert.opened',
  acknowledged: 'alert.acknowledged',
  escalated: 'alert.escalated',
  resolved: 'alert.resolved',
  auto_resolved: 'alert.resolved',
  false_alarm: 'alert.resolved',
};

export const TARGET_FAILING: Failure = {
  code: 'target_failing',
  params: {},
  detail: 'target_failing: repeated permanent failures; an admin must check and save or test it',
};
/** What is stored of a failed attempt: its code and parameters, and the message as technical detail. */
export const failureOf = (e: DeliveryError): Failure => ({ code: e.reason, params: e.params, detail: e.message });

export interface AttemptResult {
  /** The delivery is settled (delivered, folded into a digest, or failed for good): do not retry. */
  done: boolean;
  error?: DeliveryError;
}

export interface NotifierDeps {
  repo: NotifyRepository;
  channels: Map<string, NotificationChannel>;
  secrets: TargetSecrets;
  /** Queues deliveries (after `delayMs`, for held ones); the queue owns retries. */
  enqueue: (items: { deliveryId: string; delayMs?: number }[]) => Promise<void>;
  /** Counts one message in a target's rate window; resolves to the count so far (every hub shares it). */
  countInWindow: (targetId: string, windowStart: number, ttlSec: number) => Promise<number>;
  /** Runs `digest(targetId, windowStart, windowEnd)` once per target and window, at its end. */
  scheduleDigest: (targetId: string, windowStart: number, windowEnd: number) => Promise<void>;
  /** WEBHOOK_URL/WEBHOOK_SECRET: a global webhook that hears every alert change. */
  globalWebhook: WebhookConfig | null;
  zoneOf: (site: string) => string;
  siteName: (site: string) => string;
  consoleUrl: string | null;
  readSnapshot: (ref: string) => Promise<Buffer | null>;
  /** Permanent failures in a row before a target is marked failing. */
  failureLimit: number;
  now?: () => Date;
}

/**
 * Notifications: which targets hear about an alert change (rule, site, severity; quiet hours hold what is not
 * critical), one delivery attempt (run by the `notify` queue worker, which retries with backoff), per-target rate
 * limits folded into digests, escalation to a target's second, and failing targets.
 */
export function createNotifier(deps: NotifierDeps) {
  const now = deps.now ?? (() => new Date());
  const { repo } = deps;

  async function contextFor(alert: AlertNotificationPayload['alert'], language: 'vi' | 'en') {
    const ctx = await repo.alertContext(alert.id, alert.site, alert.camera);
    const message: MessageContext = {
      language,
      siteName: deps.siteName(alert.site),
      cameraName: alert.camera ? (ctx.camera_name ?? alert.camera) : null,
      timeZone: deps.zoneOf(alert.site),
      consoleUrl: deps.consoleUrl,
      eventType: ctx.type,
      clip: ctx.clip_event && ctx.clip_camera ? { event: ctx.clip_event, camera: ctx.clip_camera } : null,
    };
    return { message, snapshotRef: ctx.snapshot };
  }

  function plan(
    t: TargetRow,
    alert: AlertNotificationPayload['alert'],
    at: Date,
  ): Pick<NewDelivery, 'status' | 'notBefore' | 'failure'> {
    if (t.failing_since) return { status: 'failed', failure: TARGET_FAILING };
    if (t.quiet_hours && alert.severity !== 'critical') {
      const until = quietUntil(t.quiet_hours, at, t.quiet_hours.timeZone ?? deps.zoneOf(alert.site));
      if (until) return { status: 'held', notBefore: until };
    }
    return { status: 'pending' };
  }

  async function queue(rows: NewDelivery[], at: Date) {
    await repo.insertDeliveries(rows, at);
    await deps.enqueue(
      rows
        .filter((r) => r.status !== 'failed')
        .map((r) => ({
          deliveryId: r.id,
          delayMs: r.notBefore ? Math.max(0, r.notBefore.getTime() - at.getTime()) : undefined,
        })),
    );
  }

  /** A target failed for good: count it, and hand the message to its second target (once, never in a loop). */
  async function failedForGood(
    d: { targetId: string | null; alertId: string; event: string; payload: NotificationPayload },
    error: DeliveryError,
  ) {
    if (!d.targetId) return;
    await repo.targetFailed(d.targetId, failureOf(error), deps.failureLimit, now());
    const target = await repo.target(d.targetId);
    if (!target?.escalate_to || d.payload.fallbackFrom) return;
    const second = await repo.target(target.escalate_to);
    if (!second?.enabled) return;
    const id = randomUUID();
    const at = now();
    await queue(
      [
        {
          id,
          targetId: second.id,
          channel: second.channel,
          alertId: d.alertId,
          event: d.event,
          payload: { ...d.payload, id, fallbackFrom: target.id },
          ...(second.failing_since ? { status: 'failed', failure: TARGET_FAILING } : { status: 'pending' }),
        },
      ],
      at,
    );
  }

  return {
    /** Records one delivery per target of an alert change and queues them. */
    async onAlertChange(c: AlertChange): Promise<number> {
      const event = EVENT_OF[c.action];
      if (!event) return 0;
      const at = now();
      const atOrBelow = SEVERITIES.filter((s) => SEVERITY_RANK[s] <= SEVERITY_RANK[c.alert.severity]);
      const targets = await repo.targetsFor(c.alert.ruleId, c.alert.site, [...atOrBelow], c.extraTargets ?? []);
      // An escalation also reaches each told target's second.
      if (event === 'alert.escalated') {
        const seconds = targets
          .map((t) => t.escalate_to)
          .filter((id): id is string => !!id && !targets.some((t) => t.id === id));
        if (seconds.length) {
          const more = await repo.targetsFor(null, c.alert.site, [], [...new Set(seconds)]);
          targets.push(...more);
        }
      }
      const rows: NewDelivery[] = targets.map((t) => {
        const id = randomUUID();
        const payload: AlertNotificationPayload = { v: 1, id, event, at: c.at, alert: c.alert };
        return { id, targetId: t.id, channel: t.channel, alertId: c.alert.id, event, payload, ...plan(t, c.alert, at) };
      });
      if (deps.globalWebhook) {
        const id = randomUUID();
        const payload: AlertNotificationPayload = { v: 1, id, event, at: c.at, alert: c.alert };
        rows.push({ id, targetId: null, channel: 'webhook', alertId: c.alert.id, event, payload, status: 'pending' });
      }
      await queue(rows, at);
      return rows.length;
    },

    /** One attempt at one delivery; `last` says the queue will not try again after this one. */
    async attempt(deliveryId: string, last: boolean): Promise<AttemptResult> {
      const d = await repo.delivery(deliveryId);
      if (!d || d.status === 'delivered' || d.status === 'failed' || d.status === 'digested') return { done: true };
      const payload = d.payload as NotificationPayload;
      const target = d.targetId === null ? null : await repo.target(d.targetId);
      const channel = deps.channels.get(d.channel);
      let config: unknown = null;
      if (d.targetId === null) config = deps.globalWebhook;
      else if (target) config = deps.secrets.open(target);
      if (!config || !channel) {
        const error = config
          ? new DeliveryError(`no channel ${d.channel} in this hub`, false, { reason: 'unknown_channel' })
          : new DeliveryError('target was removed', false, { reason: 'target_removed' });
        await repo.recordAttempt(deliveryId, { status: 'failed', failure: failureOf(error), httpStatus: null }, now());
        return { done: true, error };
      }
      if (target?.failing_since) {
        await repo.settle(deliveryId, 'failed', { failure: TARGET_FAILING }, now());
        return { done: true };
      }
      // The rate limit is judged when a message is about to go out (held ones too), once per delivery.
      if (target?.rate_limit && d.attempts === 0 && payload.event !== 'alert.digest') {
        const w = rateWindow(now().getTime(), target.rate_limit.windowSec);
        const n = await deps.countInWindow(target.id, w.start, target.rate_limit.windowSec * 2);
        if (n > target.rate_limit.count) {
          await repo.settle(deliveryId, 'digested', { digestKey: String(w.start) }, now());
          await deps.scheduleDigest(target.id, w.start, w.end);
          return { done: true };
        }
      }
      const language = target?.language ?? 'vi';
      const alert = (payload as unknown as AlertNotificationPayload).alert;
      const { message: ctx, snapshotRef } = await contextFor(alert, language);
      const message: RenderedMessage =
        payload.event === 'alert.digest'
          ? renderDigest(payload as unknown as DigestNotificationPayload, ctx, target?.name ?? '')
          : renderAlert(payload as unknown as AlertNotificationPayload, ctx);
      const outgoing: OutgoingNotification = {
        deliveryId,
        payload,
        body: JSON.stringify(payload),
        message,
        snapshot: snapshotRef ? await deps.readSnapshot(snapshotRef) : null,
      };
      try {
        const parsed = channel.parseConfig(config);
        const r = await channel.send(
          parsed,
          outgoing,
          target ? { updateConfig: deps.secrets.updater(channel, target.id) } : {},
        );
        await repo.recordAttempt(
          deliveryId,
          { status: 'delivered', failure: null, httpStatus: r.status ?? null },
          now(),
        );
        if (target) await repo.targetSucceeded(target.id);
        return { done: true };
      } catch (err) {
        const error =
          err instanceof DeliveryError
            ? err
            : new DeliveryError((err as Error).message, true, { reason: 'unexpected' });
        const done = last || !error.retryable;
        await repo.recordAttempt(
          deliveryId,
          { status: done ? 'failed' : 'retrying', failure: failureOf(error), httpStatus: error.status ?? null },
          now(),
        );
        if (done) await failedForGood({ ...d, payload }, error);
        return { done, error };
      }
    },

    /** The end of a rate window: one message telling of everything the window held back. */
    async digest(targetId: string, windowStart: number, windowEnd: number): Promise<boolean> {
      const folded = await repo.digested(targetId, String(windowStart));
      const target = await repo.target(targetId);
      if (folded.length === 0 || !target) return false;
      const newest = folded[folded.length - 1]!;
      const id = randomUUID();
      const payload: DigestNotificationPayload = {
        v: 1,
        id,
        event: 'alert.digest',
        at: now().toISOString(),
        count: folded.length,
        windowStart: new Date(windowStart).toISOString(),
        windowEnd: new Date(windowEnd).toISOString(),
        alert: (newest.payload as AlertNotificationPayload).alert,
        alertIds: [...new Set(folded.map((f) => f.alert_id))],
      };
      await queue(
        [
          {
            id,
            targetId,
            channel: target.channel,
            alertId: newest.alert_id,
            event: 'alert.digest',
            payload,
            status: 'pending',
          },
        ],
        now(),
      );
      return true;
    },

    deliveries: (f: { status?: string; alertId?: string; limit?: number }): Promise<Delivery[]> =>
      repo.deliveries({ ...f, limit: f.limit ?? 100 }),
  };
}
export type Notifier = ReturnType<typeof createNotifier>;
