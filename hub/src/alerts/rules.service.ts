import type { AlertRule, AlertRuleInput } from '@camhub/shared';
import { BadRequestError, NotFoundError } from '../errors.js';
import type { RulesRepository } from './rules.repository.js';
import { isKnownTimeZone } from './schedule.js';

/**
 * Alert rules: validation, storage, and the in-memory copy the evaluator reads on every batch (never a query per
 * event). The copy is replaced when this process changes a rule, when another hub announces a change
 * (`invalidate`, wired to Redis pub/sub), and at the latest after `maxAgeMs` as a safety net.
 */
export function createRulesService(deps: {
  repo: RulesRepository;
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

    list: () => deps.repo.list(),

    async get(id: string): Promise<AlertRule> {
      const rule = await deps.repo.get(id);
      if (!rule) throw new NotFoundError('alert rule');
      return rule;
    },

    async create(input: AlertRuleInput): Promise<AlertRule> {
      await validate(input);
      const rule = await deps.repo.insert(input);
      await changed();
      return rule;
    },

    async replace(id: string, input: AlertRuleInput): Promise<AlertRule> {
      const existing = await deps.repo.get(id);
      if (!existing) throw new NotFoundError('alert rule');
      if (existing.kind !== input.kind) {
        throw new BadRequestError('invalid_rule', 'a rule cannot change kind; create a new rule instead');
      }
      await validate(input);
      const rule = await deps.repo.replace(id, input);
      if (!rule) throw new NotFoundError('alert rule');
      await changed();
      return rule;
    },

    async remove(id: string): Promise<void> {
      if (!(await deps.repo.delete(id))) throw new NotFoundError('alert rule');
      await changed();
    },
  };
}
export type RulesService = ReturnType<typeof createRulesService>;
