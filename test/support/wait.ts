/** Polls `probe` until it returns a truthy value or the deadline passes; the last value is in the error. */
export async function waitFor<T>(
  probe: () => Promise<T> | T,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let last: T | undefined;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (last) return last as NonNullable<T>;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
  const detail = lastErr ? ` (last error: ${(lastErr as Error).message})` : ` (last value: ${JSON.stringify(last)})`;
  throw new Error(`timed out waiting for ${opts.what ?? 'condition'}${detail}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
