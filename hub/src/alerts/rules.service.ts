import type { AlertRule, AlertRuleInput } from '@camhub/shared';
import type { AuditActor, AuditService } from '../audit/audit.service.js';
import { BadRequestError, NotFoundError } from '../errors.js';
import type { RulesRepository } from './rules.repository.js';
import { isKnownTimeZone } from './schedule.js';

/**
 * Alert rules: validation, storage, and the in-memory copy the evaluator reads on every batch (never a query per
 * event). The copy is replaced when this process changes a rule, when another hub announces a change
 * (`invalidate`, wired to Redis pub/sub), and at the latest after `maxAgeMs` as a safety net.
 */
/** The sites a user may act on (undefined: every site), as `siteScope(req)` gives them. */
export interface RuleScope {
  sites?: string[];
}

/** A rule within a site-limited admin's sites: it names sites, all of them theirs (a rule for everywhere is not). */
const within = (scope: RuleScope, sites: readonly string[] | null | undefined) =>
  !scope.sites || (!!sites && sites.every((s) => scope.sites!.includes(s)));

/** What a replace changed, field by field, for the audit log (rules hold no secret). */
function changes(before: AlertRule, after: AlertRule): Record<string, { from: unknown; to: unknown }> {
  const out: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of Object.keys(after) as (keyof AlertRule)[]) {
    if (key === 'updatedAt' || key === 'createdAt') continue;
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) out[key] = { from: before[key], to: after[key] };
  }
  return out;
}

export function createRulesService(deps: {
  repo: RulesRepository;
  audit: AuditService;
  /** Tells other hub processes that rules changed. */
  announce?: () => Promise<void>;
  maxAgeMs?: number;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;
  const maxAgeMs = deps.maxAgeMs ?? 30_000;
  let cached: { rules: AlertRule[]; at: number } | null = null;
  let loading: Promise<AlertRule[]> | null = null;

  async function validate(input: AlertRuleInput): Promise<void> {
    if (input.kind === 'event') {
      const zone = input.schedule?.timeZone;
      if (zone && !isKnownTimeZone(zone)) throw new BadRequestError('invalid_time_zone', `unknown time zone ${zone}`);
    } else if (input.condition === 'clock_skew' && !input.boundMs) {
      throw new BadRequestError('invalid_rule', 'a clock_skew rule needs boundMs');
    }
    if (input.cameras && input.sites) {
      const outside = input.cameras.filter((c) => !input.sites!.includes(c.split('/')[0]!));
      if (outside.length) {
        throw new BadRequestError('invalid_rule', `cameras outside the rule's sites: ${outside.join(', ')}`);
      }
    }
    const targets = input.escalateTo ?? [];
    const known = await deps.repo.targetsExist(targets);
    const unknown = targets.filter((t) => !known.includes(t));
    if (unknown.length) throw new BadRequestError('unknown_target', `no notification target ${unknown.join(', ')}`);
  }

  async function changed() {
    cached = null;
    await deps.announce?.();
  }

  return {
    /** Every rule, from memory when fresh. */
    async current(): Promise<AlertRule[]> {
      if (cached && now() - cached.at < maxAgeMs) return cached.rules;
      loading ??= deps.repo
        .list()
        .then((rules) => {
          cached = { rules, at: now() };
          return rules;
        })
        .finally(() => {
          loading = null;
        });
      return loading;
    },

    /** Another process changed rules: reload on next use. */
    invalidate() {
      cached = null;
    },

    /** Every rule, or for a site-limited admin the rules within their sites. */
    async list(scope: RuleScope = {}): Promise<AlertRule[]> {
      return (await deps.repo.list()).filter((r) => within(scope, r.sites));
    },

    async get(id: string, scope: RuleScope = {}): Promise<AlertRule> {
      const rule = await deps.repo.get(id);
      if (!rule || !within(scope, rule.sites)) throw new NotFoundError('alert rule');
      return rule;
    },

    async create(input: AlertRuleInput, who: AuditActor, scope: RuleScope = {}): Promise<AlertRule> {
      if (!within(scope, input.sites)) throw outsideSites();
      await validate(input);
      const rule = await deps.repo.insert(input);
      await deps.audit.record(who, { action: 'rule.create', target: rule.id, detail: { ...input } });
      await changed();
      return rule;
    },

    async replace(id: string, input: AlertRuleInput, who: AuditActor, scope: RuleScope = {}): Promise<AlertRule> {
      const existing = await deps.repo.get(id);
      if (!existing || !within(scope, existing.sites)) throw new NotFoundError('alert rule');
      if (!within(scope, input.sites)) throw outsideSites();
      if (existing.kind !== input.kind) {
        throw new BadRequestError('invalid_rule', 'a rule cannot change kind; create a new rule instead');
      }
      await validate(input);
      const rule = await deps.repo.replace(id, input);
      if (!rule) throw new NotFoundError('alert rule');
      await deps.audit.record(who, {
        action: 'rule.update',
        target: id,
        detail: { name: rule.name, changes: changes(existing, rule) },
      });
      await changed();
      return rule;
    },

    async remove(id: string, who: AuditActor, scope: RuleScope = {}): Promise<void> {
      const existing = await deps.repo.get(id);
      if (!existing || !within(scope, existing.sites)) throw new NotFoundError('alert rule');
      if (!(await deps.repo.delete(id))) throw new NotFoundError('alert rule');
      await deps.audit.record(who, { action: 'rule.delete', target: id, detail: { name: existing.name } });
      await changed();
    },
  };
}
export type RulesService = ReturnType<typeof createRulesService>;

const outsideSites = () =>
  new BadRequestError('rule_outside_sites', 'a site-limited admin names only their own sites in a rule');
