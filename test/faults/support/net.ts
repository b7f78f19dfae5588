import { connect } from 'node:net';
import { waitFor } from '../../support/wait.js';

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function waitForPort(port: number, what: string, timeoutMs = 15_000, alive?: () => void): Promise<void> {
  await waitFor(
    async () => {
      alive?.();
      return accepts(port);
    },
    { timeoutMs, intervalMs: 50, what },
  );
}
