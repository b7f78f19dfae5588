import { createHash } from 'node:crypto';
import { readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mountTmpfs } from '../support/agent-stack.js';
import type { FaultCase } from '../support/case.js';
import { startStack } from '../support/stack.js';

function jpeg(size: number, seed: number): { ref: string; bytes: Buffer } {
  const bytes = Buffer.alloc(size, seed);
  bytes[0] = 0xff;
  bytes[1] = 0xd8;
  return { ref: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, bytes };
}

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? filesUnder(join(dir, d.name)) : [join(dir, d.name)],
  );

/** The hub's snapshot store on a full disk: uploads refused with 507 and the contract's error, nothing half-written. */
export const hubSnapshotDiskFull: FaultCase = {
  name: 'hub-snapshot-disk-full',
  run: async (ctx) => {
    const stack = await startStack(ctx.cleanup, { postgres: ctx.postgres });
    const token = 'fault-site-upload-token-0123456789';
    const config = stack.hubConfig({ AGENT_TOKENS: `fault-site=${token}` });
    mountTmpfs(ctx, config.SNAPSHOT_DIR, 1024);
    const hub = await stack.startHub(config);
    const put = (img: { ref: string; bytes: Buffer }) =>
      fetch(`${hub.url}/api/v1/media/${img.ref}`, {
        method: 'PUT',
        headers: { 'content-type': 'image/jpeg', authorization: `Bearer ${token}` },
        body: img.bytes,
      });
    const before = await put(jpeg(100_000, 1));
    const filler = join(config.SNAPSHOT_DIR, 'filler');
    const s = statfsSync(config.SNAPSHOT_DIR);
    writeFileSync(filler, Buffer.alloc(Math.max(0, s.bavail * s.bsize - 8192)));
    const attempts = [];
    for (let i = 0; i < 5; i++) attempts.push(await put(jpeg(200_000, 10 + i)));
    const bodies = await Promise.all(attempts.map((r) => r.json() as Promise<{ error?: { code: string } }>));
    const leftovers = filesUnder(config.SNAPSHOT_DIR).filter((f) => f.endsWith('.tmp'));
    const ready = (await fetch(`${hub.url}/readyz`)).status;
    rmSync(filler);
    const after = await put(jpeg(200_000, 10));
    const statuses = attempts.map((r) => r.status);
    const ok =
      before.status === 201 &&
      statuses.every((st) => st === 507) &&
      bodies.every((b) => b.error?.code === 'insufficient_storage') &&
      leftovers.length === 0 &&
      ready === 200 &&
      after.status === 201;
    return [
      {
        fault: "hub's snapshot store disk full (1 MiB tmpfs), then freed",
        published: 2 + attempts.length,
        stored: 2 + attempts.length,
        duplicates: 0,
        recoveryMs: null,
        notes: `uploads while full: ${statuses.join(',')} ${bodies[0]?.error?.code ?? '?'}; ${leftovers.length} temp files left; /readyz ${ready}; after freeing: ${after.status}`,
        ok,
      },
    ];
  },
};
