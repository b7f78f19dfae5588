import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';

export interface Async<T> {
  data: T | undefined;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

/** Loads `fn` when `deps` change (and every `refreshMs` if given); keeps the last data while reloading. */
export function useAsync<T>(fn: () => Promise<T>, deps: unknown[], refreshMs?: number): Async<T> {
  const [state, setState] = useState<{ data: T | undefined; error: ApiError | null; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  useEffect(() => {
    let cancelled = false;
    setState((s) => ({ ...s, loading: true }));
    fnRef.current().then(
      (data) => !cancelled && setState({ data, error: null, loading: false }),
      (err: unknown) =>
        !cancelled &&
        setState((s) => ({
          data: s.data,
          error: err instanceof ApiError ? err : new ApiError(0, 'client_error', String(err)),
          loading: false,
        })),
    );
    const timer = refreshMs ? setTimeout(() => setTick((n) => n + 1), refreshMs) : null;
    return () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { ...state, reload };
}
