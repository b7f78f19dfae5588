/** Small pieces the admin forms share (rules, users, cameras). */
import { ApiError } from '../api.js';

/** Any failure as an ApiError, so that ErrorNotice words it from the catalogues. */
export const asError = (err: unknown) => (err instanceof ApiError ? err : new ApiError(0, 'client_error', String(err)));

/** `list` with `item` in it when `on`, without it otherwise (checkbox lists). */
export const toggle = <T,>(list: T[], item: T, on: boolean): T[] =>
  on ? (list.includes(item) ? list : [...list, item]) : list.filter((x) => x !== item);
