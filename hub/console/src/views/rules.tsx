import { useState } from 'preact/hooks';
import { type AlertRule, api, type ApiError, EVENT_TYPES } from '../api.js';
import { ErrorNotice, Loading, SeverityBadge } from '../components/common.js';
import { DataTable } from '../components/data-table.js';
import { useAsync } from '../hooks.js';
import { formatNumber, label, type MessageKey, t } from '../i18n/index.js';
import { cameraName, placeName, siteName, useNames } from '../names.js';
import {
  DAYS,
  EMPTY_RULE,
  formOfRule,
  HEALTH_CONDITIONS,
  inputOfForm,
  type RuleForm,
  ruleProblems,
  SEVERITIES,
  toggled,
} from './rule-form.js';
import { asError, FormProblems, toggle } from './form-helpers.js';

/** Whether the browser knows a time zone (the hub checks again with its own list). */
function zoneKnown(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch (err) {
    // RangeError: an unknown zone, which is the answer.
    return !(err instanceof RangeError);
  }
}

/** A rule's trigger in words: its event types (and schedule, threshold) or its health condition. */
function ruleWhat(r: AlertRule): string {
  if (r.kind === 'health') {
    const base = r.condition ? label('admin.condition', r.condition) : '—';
    return r.forSec > 0 ? `${base}, ${t('admin.forSec', { seconds: formatNumber(r.forSec, 0) })}` : base;
  }
  const types = r.eventTypes ? r.eventTypes.map((ty) => label('type', ty)).join(', ') : t('common.all');
  const windows = r.schedule?.windows.map((w) => `${w.start}–${w.end}`).join(', ');
  const threshold = r.threshold ? `≥ ${r.threshold.count} / ${formatNumber(r.threshold.windowSec, 0)} s` : '';
  return [types, windows, threshold].filter(Boolean).join(' · ');
}

function ruleScope(r: AlertRule): string {
  if (r.cameras) return r.cameras.map((ref) => placeName(ref.split('/')[0]!, ref.split('/')[1]!)).join(', ');
  if (r.sites) return r.sites.map(siteName).join(', ');
  return t('admin.everywhere');
}

/**
 * Alert rules: the list in words, and an editor for every field (event types, sites and cameras, schedule windows,
 * threshold, grouping, cooldown, health condition, escalation). Problems are named before anything is sent; the hub
 * checks again and audits each change.
 */
export function Rules() {
  useNames();
  const rules = useAsync(() => api.rules(), []);
  const sites = useAsync(() => api.sites(), []);
  const cameras = useAsync(() => api.cameras(), []);
  const targets = useAsync(() => api.targets(), []);
  const [form, setForm] = useState<RuleForm | null>(null);
  // The id of the rule being edited; null while creating one.
  const [editing, setEditing] = useState<string | null>(null);
  const [problems, setProblems] = useState<{ key: string; params?: Record<string, string | number> }[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const start = (r: AlertRule | null) => {
    setError(null);
    setDone(null);
    setProblems([]);
    setEditing(r?.id ?? null);
    setForm(r ? formOfRule(r) : { ...EMPTY_RULE });
  };

  const run = async (what: () => Promise<unknown>, message: string): Promise<boolean> => {
    setError(null);
    setDone(null);
    try {
      await what();
      setDone(message);
      rules.reload();
      return true;
    } catch (err) {
      setError(asError(err));
      return false;
    }
  };

  const save = async (e: Event) => {
    e.preventDefault();
    if (!form) return;
    const found = ruleProblems(form, zoneKnown);
    setProblems(found);
    if (found.length) return;
    const input = inputOfForm(form);
    const ok = await run(
      () => (editing ? api.replaceRule(editing, input) : api.createRule(input)),
      t(editing ? 'rules.saved' : 'rules.created', { name: input.name }),
    );
    if (ok) {
      setForm(null);
      setEditing(null);
    }
  };

  return (
    <>
      <ErrorNotice error={rules.error} what="GET /alert-rules" />
      <Loading when={rules.loading && !rules.data}>
        {rules.data && (
          <DataTable
            columns={[
              'admin.name',
              'admin.kind',
              'admin.ruleWhat',
              'alerts.severity',
              'admin.scope',
              'admin.cooldown',
              'admin.enabled',
            ]}
            actions="targets.actions"
            testId="rules"
          >
            {rules.data.map((r) => (
              <tr key={r.id} title={r.description ?? undefined} data-rule={r.name}>
                <td>{r.name}</td>
                <td>{t(r.kind === 'event' ? 'admin.kind.event' : 'admin.kind.health')}</td>
                <td>{ruleWhat(r)}</td>
                <td>
                  <SeverityBadge severity={r.severity} />
                </td>
                <td>{ruleScope(r)}</td>
                <td class="num">{r.kind === 'event' ? formatNumber(r.cooldownSec, 0) : '—'}</td>
                <td>{r.enabled ? t('admin.on') : t('admin.off')}</td>
                <td class="actions">
                  <button type="button" onClick={() => start(r)}>
                    {t('admin.edit')}
                  </button>{' '}
                  <button
                    type="button"
                    onClick={() =>
                      void run(
                        () => api.replaceRule(r.id, toggled(r)),
                        t(r.enabled ? 'rules.disabledDone' : 'rules.enabledDone', { name: r.name }),
                      )
                    }
                  >
                    {r.enabled ? t('rules.disable') : t('rules.enable')}
                  </button>{' '}
                  <button
                    type="button"
                    onClick={() => {
                      if (window.confirm(t('rules.confirmDelete', { name: r.name })))
                        void run(() => api.deleteRule(r.id), t('rules.deleted', { name: r.name }));
                    }}
                  >
                    {t('rules.delete')}
                  </button>
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </Loading>
      {!rules.error?.missingRoute && !form && (
        <p>
          <button type="button" class="primary" onClick={() => start(null)}>
            {t('rules.new')}
          </button>
        </p>
      )}
      {done && <p role="status">{done}</p>}
      <ErrorNotice error={error} what={editing ? 'PUT /alert-rules/:id' : '/alert-rules'} />
      {form && (
        <RuleEditor
          form={form}
          setForm={setForm}
          editing={editing !== null}
          sites={(sites.data ?? []).map((s) => s.id)}
          cameras={(cameras.data ?? []).map((c) => ({ site: c.site, camera: c.camera }))}
          targets={(targets.data ?? []).map((x) => ({ id: x.id, name: x.name }))}
          problems={problems}
          onSubmit={save}
          onCancel={() => {
            setForm(null);
            setEditing(null);
            setProblems([]);
          }}
        />
      )}
    </>
  );
}

function RuleEditor(props: {
  form: RuleForm;
  setForm: (f: RuleForm) => void;
  editing: boolean;
  sites: string[];
  cameras: { site: string; camera: string }[];
  targets: { id: string; name: string }[];
  problems: { key: string; params?: Record<string, string | number> }[];
  onSubmit: (e: Event) => Promise<void>;
  onCancel: () => void;
}) {
  const { form, setForm } = props;
  const set = <K extends keyof RuleForm>(key: K, value: RuleForm[K]) => setForm({ ...form, [key]: value });
  const text = (key: keyof RuleForm) => (e: { currentTarget: { value: string } }) =>
    setForm({ ...form, [key]: e.currentTarget.value });
  // Cameras of the chosen sites (all sites when none is chosen), by display name.
  const shownCameras = props.cameras
    .filter((c) => form.sites.length === 0 || form.sites.includes(c.site))
    .sort((a, b) => placeName(a.site, a.camera).localeCompare(placeName(b.site, b.camera)));
  const setWindow = (i: number, patch: Partial<RuleForm['windows'][number]>) =>
    set(
      'windows',
      form.windows.map((w, j) => (j === i ? { ...w, ...patch } : w)),
    );
  return (
    <form class="search rule-form" noValidate onSubmit={(e) => void props.onSubmit(e)} aria-labelledby="rule-title">
      <h2 id="rule-title">{props.editing ? t('rules.editTitle', { name: form.name }) : t('rules.newTitle')}</h2>
      <FormProblems problems={props.problems} title="rules.invalid" testId="rule-problems" />
      <label>
        {t('admin.kind')}
        <select
          value={form.kind}
          disabled={props.editing}
          onChange={(e) => set('kind', e.currentTarget.value as RuleForm['kind'])}
        >
          <option value="event">{t('admin.kind.event')}</option>
          <option value="health">{t('admin.kind.health')}</option>
        </select>
      </label>
      <label>
        {t('admin.name')}
        <input maxLength={200} value={form.name} onInput={text('name')} />
      </label>
      <label>
        {t('alerts.severity')}
        <select value={form.severity} onChange={(e) => set('severity', e.currentTarget.value as RuleForm['severity'])}>
          {SEVERITIES.map((s) => (
            <option key={s} value={s}>
              {label('severity', s)}
            </option>
          ))}
        </select>
      </label>
      <label class="check">
        <input type="checkbox" checked={form.enabled} onChange={(e) => set('enabled', e.currentTarget.checked)} />{' '}
        {t('admin.enabled')}
      </label>
      <label class="wide">
        {t('rules.description')}
        <textarea maxLength={2000} value={form.description} onInput={text('description')} />
      </label>

      <fieldset class="wide">
        <legend>{t('rules.sites')}</legend>
        {props.sites.map((s) => (
          <label key={s} class="check">
            <input
              type="checkbox"
              checked={form.sites.includes(s)}
              onChange={(e) => set('sites', toggle(form.sites, s, e.currentTarget.checked))}
            />{' '}
            {siteName(s)}
          </label>
        ))}
      </fieldset>
      <fieldset class="wide">
        <legend>{t('rules.cameras')}</legend>
        {shownCameras.map((c) => {
          const ref = `${c.site}/${c.camera}`;
          return (
            <label key={ref} class="check" title={ref}>
              <input
                type="checkbox"
                checked={form.cameras.includes(ref)}
                onChange={(e) => set('cameras', toggle(form.cameras, ref, e.currentTarget.checked))}
              />{' '}
              {form.sites.length === 1 ? cameraName(c.site, c.camera) : placeName(c.site, c.camera)}
            </label>
          );
        })}
      </fieldset>

      {form.kind === 'event' ? (
        <>
          <fieldset class="wide">
            <legend>{t('rules.eventTypes')}</legend>
            {EVENT_TYPES.map((ty) => (
              <label key={ty} class="check">
                <input
                  type="checkbox"
                  checked={form.eventTypes.includes(ty)}
                  onChange={(e) => set('eventTypes', toggle(form.eventTypes, ty, e.currentTarget.checked))}
                />{' '}
                {label('type', ty)}
              </label>
            ))}
          </fieldset>
          <fieldset class="wide" data-testid="rule-schedule">
            <legend>{t('rules.schedule')}</legend>
            {form.windows.map((w, i) => (
              <div key={i} class="rule-window">
                <label>
                  {t('rules.windowStart', { n: i + 1 })}
                  <input
                    value={w.start}
                    placeholder="22:00"
                    size={6}
                    onInput={(e) => setWindow(i, { start: e.currentTarget.value })}
                  />
                </label>
                <label>
                  {t('rules.windowEnd', { n: i + 1 })}
                  <input
                    value={w.end}
                    placeholder="05:00"
                    size={6}
                    onInput={(e) => setWindow(i, { end: e.currentTarget.value })}
                  />
                </label>
                <span class="small muted">{t('rules.days')}</span>
                {DAYS.map((d) => (
                  <label key={d} class="check">
                    <input
                      type="checkbox"
                      checked={w.days.includes(d)}
                      onChange={(e) => setWindow(i, { days: toggle(w.days, d, e.currentTarget.checked).sort() })}
                    />{' '}
                    {t(`day.${d}` as MessageKey)}
                  </label>
                ))}
                <button
                  type="button"
                  onClick={() =>
                    set(
                      'windows',
                      form.windows.filter((_, j) => j !== i),
                    )
                  }
                >
                  {t('rules.removeWindow', { n: i + 1 })}
                </button>
              </div>
            ))}
            <button
              type="button"
              onClick={() => set('windows', [...form.windows, { start: '22:00', end: '05:00', days: [] }])}
            >
              {t('rules.addWindow')}
            </button>
            {form.windows.length > 0 && (
              <label>
                {t('rules.timeZone')}
                <input value={form.timeZone} placeholder="Asia/Ho_Chi_Minh" onInput={text('timeZone')} />
              </label>
            )}
          </fieldset>
          <label>
            {t('rules.thresholdCount')}
            <input inputMode="numeric" size={6} value={form.thresholdCount} onInput={text('thresholdCount')} />
          </label>
          <label>
            {t('rules.thresholdWindow')}
            <input inputMode="numeric" size={6} value={form.thresholdWindowSec} onInput={text('thresholdWindowSec')} />
          </label>
          <label>
            {t('rules.groupBy')}
            <select value={form.groupBy} onChange={(e) => set('groupBy', e.currentTarget.value as RuleForm['groupBy'])}>
              <option value="camera">{t('rules.groupBy.camera')}</option>
              <option value="site">{t('rules.groupBy.site')}</option>
            </select>
          </label>
          <label>
            {t('admin.cooldown')}
            <input inputMode="numeric" size={6} value={form.cooldownSec} onInput={text('cooldownSec')} />
          </label>
          <p class="small muted wide">{t('rules.thresholdHint')}</p>
        </>
      ) : (
        <>
          <label>
            {t('rules.condition')}
            <select
              value={form.condition}
              onChange={(e) => set('condition', e.currentTarget.value as RuleForm['condition'])}
            >
              {HEALTH_CONDITIONS.map((c) => (
                <option key={c} value={c}>
                  {label('admin.condition', c)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('rules.forSec')}
            <input inputMode="numeric" size={6} value={form.forSec} onInput={text('forSec')} />
          </label>
          {form.condition === 'clock_skew' && (
            <label>
              {t('rules.boundMs')}
              <input inputMode="numeric" size={8} value={form.boundMs} onInput={text('boundMs')} />
            </label>
          )}
        </>
      )}

      <label>
        {t('rules.escalateAfter')}
        <input inputMode="numeric" size={6} value={form.escalateAfterSec} onInput={text('escalateAfterSec')} />
      </label>
      <fieldset>
        <legend>{t('rules.escalateTo')}</legend>
        {props.targets.length === 0 && <span class="muted">{t('rules.noTargets')}</span>}
        {props.targets.map((x) => (
          <label key={x.id} class="check">
            <input
              type="checkbox"
              checked={form.escalateTo.includes(x.id)}
              onChange={(e) => set('escalateTo', toggle(form.escalateTo, x.id, e.currentTarget.checked))}
            />{' '}
            {x.name}
          </label>
        ))}
      </fieldset>
      <button type="submit" class="primary">
        {props.editing ? t('common.save') : t('common.create')}
      </button>
      <button type="button" onClick={props.onCancel}>
        {t('admin.cancel')}
      </button>
    </form>
  );
}
