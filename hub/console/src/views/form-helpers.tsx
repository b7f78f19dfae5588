/** Small pieces the admin forms share (rules, users, cameras). */
import { ApiError } from '../api.js';
import { type MessageKey, t } from '../i18n/index.js';
import type { Problem } from './rule-form.js';

/** Any failure as an ApiError, so that ErrorNotice words it from the catalogues. */
export const asError = (err: unknown) => (err instanceof ApiError ? err : new ApiError(0, 'client_error', String(err)));

/** `list` with `item` in it when `on`, without it otherwise (checkbox lists). */
export const toggle = <T,>(list: T[], item: T, on: boolean): T[] =>
  on ? (list.includes(item) ? list : [...list, item]) : list.filter((x) => x !== item);

/**
 * Why a form was not sent, in the console's words (the forms turn the browser's own validation off): a title, then
 * each problem from the catalogues. Nothing when there is none.
 */
export function FormProblems(props: { problems: Problem[]; title: MessageKey; testId: string }) {
  if (props.problems.length === 0) return null;
  return (
    <div class="notice error" role="alert" data-testid={props.testId}>
      <p>{t(props.title)}</p>
      <ul>
        {props.problems.map((p) => (
          <li key={p.key + JSON.stringify(p.params ?? {})}>{t(p.key as MessageKey, p.params)}</li>
        ))}
      </ul>
    </div>
  );
}
