import { randomUUID } from 'node:crypto';
import type { Static } from '@sinclair/typebox';
import type { Target, TargetInput, TargetPatch, TargetTestResultSchema, Webhook, WebhookInput } from '@camhub/shared';
import type { AuditActor, AuditService } from '../audit/audit.service.js';
import { BadRequestError, NotFoundError } from '../errors.js';
import { DeliveryError, type NotificationChannel } from './channel.js';
import { renderTest } from './message.js';
import type { NotifyRepository, StoredTarget, TargetRow } from './notify.repository.js';
import type { TargetSecrets } from './target-secrets.js';
import { toWebhook as webhookShape } from './notify.repository.js';
import { restoreRedactedUrl } from './url-redaction.js';

type TestResult = Static<typeof TargetTestResultSchema>;

/**
 * Notification targets as admins manage them: settings checked by their channel, secrets sealed and never
 * returned, every change and every test written to the audit trail (without secret values).
 */
export function createTargetsService(deps: {
  repo: NotifyRepository;
  channels: Map<string, NotificationChannel>;
  secrets: TargetSecrets;
  audit: AuditService;
  testTimeoutMs: number;
}) {
  const { repo, secrets } = deps;

  const toWebhook = (r: TargetRow) => webhookShape(r, String(secrets.publicConfig(r).url));

  const view = (r: TargetRow): Target => ({
    id: r.id,
    channel: r.channel,
    name: r.name,
    enabled: r.enabled,
    minSeverity: r.min_severity,
    ruleIds: r.rule_ids,
    siteIds: r.site_ids,
    language: r.language,
    quietHours: r.quiet_hours,
    rateLimit: r.rate_limit,
    escalateTo: r.escalate_to,
    config: secrets.publicConfig(r),
    secretsSet: secrets.secretNames(r),
    failing: r.failing_since !== null,
    failingSince: r.failing_since ? r.failing_since.toISOString() : null,
    lastFailure: r.last_failure,
    lastFailureCode: r.last_failure_code,
    lastFailureParams: r.last_failure_params,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  });

  function channelOf(name: string): NotificationChannel {
    const c = deps.channels.get(name);
    if (!c) throw new BadRequestError('invalid_target', `unknown channel ${name}`);
    return c;
  }

  async function checkEscalation(id: string, escalateTo: string | null | undefined) {
    if (!escalateTo) return;
    if (escalateTo === id) throw new BadRequestError('invalid_target', 'escalateTo: a target cannot be its own second');
    if ((await repo.existingTargets([escalateTo])).length === 0) {
      throw new BadRequestError('unknown_target', `escalateTo: no target ${escalateTo}`);
    }
  }

  function stored(id: string, channel: NotificationChannel, input: Omit<TargetInput, 'channel'>): StoredTarget {
    const parsed = channel.parseConfig(input.config) as Record<string, unknown>;
    const s = secrets.split(channel.name, id, parsed);
    return {
      channel: channel.name,
      name: input.name,
      config: s.config,
      secrets: s.secrets,
      enabled: input.enabled ?? true,
      minSeverity: input.minSeverity ?? 'info',
      ruleIds: input.ruleIds ?? null,
      siteIds: input.siteIds ?? null,
      language: input.language ?? 'vi',
      quietHours: input.quietHours ?? null,
      rateLimit: input.rateLimit ?? null,
      escalateTo: input.escalateTo ?? null,
    };
  }

  /** What changed, for the audit trail: field names, and for secrets only that they changed. */
  function changes(before: Record<string, unknown>, after: Record<string, unknown>, secretFields: readonly string[]) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys]
      .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
      .map((k) => (secretFields.includes(k) ? `config.${k} (secret)` : k));
  }

  const service = {
    /** Seals what targets written by older hubs keep in clear (see target-secrets.ts); at every start. */
    sealLegacy: () => secrets.sealLegacy(),

    async list(channel?: string): Promise<Target[]> {
      return (await repo.targets(channel)).map(view);
    },

    async get(id: string): Promise<Target> {
      const r = await repo.target(id);
      if (!r) throw new NotFoundError('target');
      return view(r);
    },

    async create(input: TargetInput, who: AuditActor): Promise<Target> {
      const id = randomUUID();
      const channel = channelOf(input.channel);
      await checkEscalation(id, input.escalateTo);
      const row = await repo.insertTarget(id, stored(id, channel, input));
      await deps.audit.record(who, {
        action: 'notify.target_created',
        target: id,
        detail: { channel: channel.name, name: input.name, secrets: secrets.secretNames(row) },
      });
      return view(row);
    },

    async update(id: string, patch: TargetPatch, who: AuditActor): Promise<Target> {
      const cur = await repo.target(id);
      if (!cur) throw new NotFoundError('target');
      const channel = channelOf(cur.channel);
      await checkEscalation(id, patch.escalateTo);
      const currentConfig = secrets.open(cur);
      // Secrets left out (or sent empty) are kept: the console never has them to send back. Nor does it have the
      // password inside a URL: the one it was shown, sent back with its marker, keeps the stored password.
      const given = Object.fromEntries(
        Object.entries(patch.config ?? {})
          .filter(([k, v]) => !(channel.secretFields.includes(k) && (v === '' || v === null)))
          .map(([k, v]) => [k, typeof v === 'string' ? restoreRedactedUrl(v, currentConfig[k]) : v]),
      );
      const next = stored(id, channel, {
        name: patch.name ?? cur.name,
        enabled: patch.enabled ?? cur.enabled,
        minSeverity: patch.minSeverity ?? cur.min_severity,
        ruleIds: patch.ruleIds === undefined ? cur.rule_ids : patch.ruleIds,
        siteIds: patch.siteIds === undefined ? cur.site_ids : patch.siteIds,
        language: patch.language ?? cur.language,
        quietHours: patch.quietHours === undefined ? cur.quiet_hours : patch.quietHours,
        rateLimit: patch.rateLimit === undefined ? cur.rate_limit : patch.rateLimit,
        escalateTo: patch.escalateTo === undefined ? cur.escalate_to : patch.escalateTo,
        config: { ...currentConfig, ...given },
      });
      const row = await repo.updateTarget(id, next);
      if (!row) throw new NotFoundError('target');
      const { config: _c, ...restPatch } = patch;
      await deps.audit.record(who, {
        action: 'notify.target_updated',
        target: id,
        detail: {
          channel: cur.channel,
          fields: Object.keys(restPatch),
          config: changes(currentConfig, secrets.open(row), channel.secretFields),
          wasFailing: cur.failing_since !== null,
        },
      });
      return view(row);
    },

    async remove(id: string, who: AuditActor): Promise<void> {
      const cur = await repo.target(id);
      if (!cur || !(await repo.deleteTarget(id))) throw new NotFoundError('target');
      await deps.audit.record(who, {
        action: 'notify.target_deleted',
        target: id,
        detail: { channel: cur.channel, name: cur.name },
      });
    },

    /** Sends a test message now and says how it went; a success clears the failing mark. */
    async test(id: string, who: AuditActor): Promise<TestResult> {
      const row = await repo.target(id);
      if (!row) throw new NotFoundError('target');
      const channel = channelOf(row.channel);
      const deliveryId = randomUUID();
      const payload = { v: 1 as const, id: deliveryId, event: 'test', at: new Date().toISOString(), target: row.name };
      let result: TestResult;
      try {
        const config = channel.parseConfig(secrets.open(row));
        const r = await Promise.race([
          channel.send(
            config,
            {
              deliveryId,
              payload,
              body: JSON.stringify(payload),
              message: renderTest(row.name, row.language),
              snapshot: null,
            },
            { updateConfig: secrets.updater(channel, id) },
          ),
          new Promise<never>((_, reject) =>
            setTimeout(
              () =>
                reject(
                  new DeliveryError(`no answer within ${deps.testTimeoutMs} ms`, true, {
                    reason: 'unreachable',
                    params: { ms: deps.testTimeoutMs },
                  }),
                ),
              deps.testTimeoutMs,
            ).unref(),
          ),
        ]);
        result = { ok: true, error: null, code: null, params: null, status: r.status ?? null };
        await repo.clearFailing(id);
      } catch (err) {
        const e =
          err instanceof DeliveryError
            ? err
            : new DeliveryError((err as Error).message, false, { reason: 'unexpected' });
        result = { ok: false, error: e.message, code: e.reason, params: e.params, status: e.status ?? null };
      }
      await deps.audit.record(who, {
        action: 'notify.target_tested',
        target: id,
        detail: { channel: row.channel, ...result },
      });
      return result;
    },

    // The webhook API of before (docs/alerts.md): webhook targets seen through their old shape.
    async listWebhooks(): Promise<Webhook[]> {
      return (await repo.targets('webhook')).map(toWebhook);
    },
    async createWebhook(input: WebhookInput, who: AuditActor): Promise<Webhook> {
      const t = await service.create(
        {
          channel: 'webhook',
          name: input.name,
          enabled: input.enabled,
          minSeverity: input.minSeverity,
          ruleIds: input.ruleIds,
          config: { url: input.url, secret: input.secret },
        },
        who,
      );
      return toWebhook((await repo.target(t.id))!);
    },
    async updateWebhook(id: string, patch: Partial<WebhookInput>, who: AuditActor): Promise<Webhook> {
      const cur = await repo.target(id);
      if (!cur || cur.channel !== 'webhook') throw new NotFoundError('webhook');
      const config: Record<string, unknown> = {};
      if (patch.url !== undefined) config.url = patch.url;
      if (patch.secret !== undefined) config.secret = patch.secret;
      await service.update(
        id,
        { name: patch.name, enabled: patch.enabled, minSeverity: patch.minSeverity, ruleIds: patch.ruleIds, config },
        who,
      );
      return toWebhook((await repo.target(id))!);
    },
    async deleteWebhook(id: string, who: AuditActor): Promise<void> {
      const cur = await repo.target(id);
      if (!cur || cur.channel !== 'webhook') throw new NotFoundError('webhook');
      await service.remove(id, who);
    },
  };
  return service;
}
export type TargetsService = ReturnType<typeof createTargetsService>;
