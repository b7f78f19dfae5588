import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MediaQueue } from './media-queue.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A hub that answers 503 until `up` is set, then 201, and counts what it stored. */
async function hub() {
  const state = { up: false, attempts: 0, stored: [] as string[] };
  const server: Server = createServer((req, res) => {
    state.attempts += 1;
    req.resume();
    req.on('end', () => {
      if (!state.up) return void res.writeHead(503).end();
      state.stored.push(req.url ?? '');
      res.writeHead(201).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { state, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

function queue(url: string) {
  const dir = mkdtempSync(join(tmpdir(), 'camhub-media-queue-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const q = new MediaQueue({
    dir,
    maxBytes: 1 << 20,
    hub: { url, token: 'site-token' },
    logger: pino({ level: 'silent' }),
    // A backoff far longer than the test: only retryNow can make the upload happen in time.
    backoffMinMs: 60_000,
    backoffMaxMs: 60_000,
  });
  cleanups.push(() => q.stop());
  return q;
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

describe('MediaQueue', () => {
  it('retries at once when the way to the hub is back, not after the backoff the outage grew', async () => {
    const h = await hub();
    const q = queue(h.url);
    const ref = q.put(Buffer.from([0xff, 0xd8, 1, 2, 3, 0xff, 0xd9]));
    q.start();
    expect(await until(() => h.state.attempts === 1, 2000)).toBe(true);
    h.state.up = true;
    // Waiting out the backoff: nothing more is tried.
    expect(await until(() => h.state.attempts > 1, 300)).toBe(false);
    q.retryNow();
    expect(await until(() => h.state.stored.length === 1, 2000)).toBe(true);
    expect(h.state.stored[0]).toBe(`/api/v1/media/${ref}`);
    expect(await until(() => q.pending === 0, 1000)).toBe(true);
  });
});
