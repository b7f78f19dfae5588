import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../hub/src/config.js';
import { HubStartError, spawnHub } from './processes.js';

/** Alive = in the process table and not a zombie (a killed child whose parent has not reaped it yet is dead). */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] !== 'Z';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Stand-ins for the hub, run with `node -e`: each starts a grandchild (`sleep`) in its process group and prints its
 * pid, then never gets ready, exits at once, or answers /readyz.
 */
const GRANDCHILD = `const g = require('node:child_process').spawn('sleep', ['600'], { stdio: 'ignore' });
console.log('grandchild ' + g.pid);`;
const NEVER_READY = `${GRANDCHILD} console.log('loading plugins'); setInterval(() => undefined, 1000);`;
const EXITS = `console.log('cannot start: no database'); process.exit(3);`;
const READY = `${GRANDCHILD} require('node:http').createServer((q, r) => r.end('{}')).listen(Number(process.env.PORT), '127.0.0.1');`;

const launch = (script: string) => ({ args: ['-e', script], cwd: process.cwd() });
const config = loadConfig({}, {});
const grandchildOf = (output: string) => Number(/grandchild (\d+)/.exec(output)?.[1]);

describe(spawnHub.name, () => {
  it('kills a hub that is not ready in time, with what it started, and reports its last output', async () => {
    let pid = 0;
    const t0 = Date.now();
    const err = await spawnHub(config, {}, launch(NEVER_READY), {
      timeoutMs: 1500,
      onSpawn: (c) => (pid = c.pid!),
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HubStartError);
    expect((err as HubStartError).code).toBe('hub_not_ready');
    expect((err as HubStartError).message).toMatch(/not ready .* within 1500 ms/);
    expect((err as HubStartError).output).toContain('loading plugins');
    expect(Date.now() - t0).toBeLessThan(10_000);
    const grandchild = grandchildOf((err as HubStartError).output);
    expect(grandchild).toBeGreaterThan(0);
    // Killed and awaited before the error is thrown: nothing is left to take the next hub's messages.
    expect(alive(pid)).toBe(false);
    // The group's SIGKILL reached the grandchild too; give the kernel a moment to finish it off.
    await expect.poll(() => alive(grandchild), { timeout: 2000 }).toBe(false);
  });

  it('reports a hub that exited before ready at once, with its output', async () => {
    const t0 = Date.now();
    const err = await spawnHub(config, {}, launch(EXITS), { timeoutMs: 30_000 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HubStartError);
    expect((err as HubStartError).message).toMatch(/exited \(3\) before ready/);
    expect((err as HubStartError).output).toContain('cannot start: no database');
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('stops a ready hub with its process group', async () => {
    const hub = await spawnHub(config, {}, launch(READY), { timeoutMs: 10_000 });
    expect(hub.readyMs).toBeGreaterThan(0);
    await expect.poll(() => grandchildOf(hub.output())).toBeGreaterThan(0);
    const grandchild = grandchildOf(hub.output());
    await hub.stop('SIGTERM');
    expect(alive(hub.proc.pid!)).toBe(false);
    await expect.poll(() => alive(grandchild), { timeout: 2000 }).toBe(false);
  });
});
