import { portAnswers } from '../../../scripts/lib/net.js';
import { waitFor } from '../../support/wait.js';

/** True when something accepts TCP connections on 127.0.0.1:port. */
export const accepts = (port: number) => portAnswers(port);

export async function waitForPort(port: number, what: string, timeoutMs = 15_000, alive?: () => void): Promise<void> {
  await waitFor(
    async () => {
      alive?.();
      return accepts(port);
    },
    { timeoutMs, intervalMs: 50, what },
  );
}
