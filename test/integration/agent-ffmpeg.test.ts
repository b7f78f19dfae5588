// Issue 13: every ffmpeg child of the agent leads a process group of its own, so a snapshot grab that is aborted or
// runs out of time is killed with everything it started. Real ffmpeg; the grab's ffmpeg runs as the grandchild of a
// shell wrapper, so killing the direct child alone (what fluent-ffmpeg's own kill does) would leave it running.
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { startSimulator, type Simulator } from '@camhub/simulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FfmpegError, grabFrame, liveFfmpegCount, probeStream, useFfmpeg } from '../../edge-agent/src/media/ffmpeg.js';
import { processTable, tempDir } from '../support/agent-harness.js';
import { onPath, requireDependency, requireRtsp } from '../support/dependencies.js';
import { freePortBlock } from '../support/processes.js';

/** Live members of a process group (a zombie has been killed and only waits for its parent to reap it). */
const groupMembers = (pgid: number) => processTable().filter((p) => p.pgrp === pgid && p.state !== 'Z');

async function until<T>(probe: () => T | undefined | false, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const BASE_PORT = await freePortBlock(4, 31000);
let dir: string;
let wrapper: string;
let silent: net.Server;
let silentPort: number;
const sockets: net.Socket[] = [];
let sim: Simulator | null = null;
const groups: number[] = [];

beforeAll(async () => {
  dir = tempDir('ffmpeg-group');
  wrapper = join(dir, 'ffmpeg-wrapper.sh');
  // ffmpeg as a background child of the shell (same process group: no job control in a script), the shell waiting.
  writeFileSync(wrapper, '#!/bin/sh\nffmpeg "$@" &\nwait $!\n');
  chmodSync(wrapper, 0o755);
  // An RTSP "camera" that answers, but one header line every 100 ms and never to the end: ffmpeg's own I/O timeout
  // (0.8 of the grab's deadline) never fires, so only the agent's deadline or abort can end the grab.
  silent = net.createServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined); // ffmpeg killed mid-answer: the reset is the point, not a failure
    s.write('RTSP/1.0 200 OK\r\nCSeq: 1\r\n');
    const drip = setInterval(() => s.write('X-Camhub-Wait: 1\r\n'), 100);
    s.on('close', () => clearInterval(drip));
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentPort = (silent.address() as net.AddressInfo).port;
});

afterEach(() => {
  useFfmpeg('ffmpeg');
  // A failed assertion must not leave a hung ffmpeg on a shared machine.
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => silent.close(() => r()));
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts a grab against the silent server and waits until its group holds the shell and the real ffmpeg. */
async function hungGrab(options: { timeoutMs: number; signal?: AbortSignal }) {
  useFfmpeg(wrapper);
  const url = `rtsp://127.0.0.1:${silentPort}/cam`;
  const grab = grabFrame(url, options);
  grab.catch(() => undefined); // awaited by the test; this only keeps an early rejection from being unhandled
  // The wrapper shell, our child, leads its own group (pgid = its pid, not ours)…
  const leader = await until(
    () => processTable().find((p) => p.ppid === process.pid && p.pid === p.pgrp && cmdline(p.pid).includes(url))!,
    5000,
    'the wrapper shell as the leader of its own process group',
  );
  groups.push(leader.pgrp);
  expect(leader.pgrp).not.toBe(processTable().find((p) => p.pid === process.pid)!.pgrp);
  // …and the real ffmpeg, its child, is in that group, connected to the silent camera.
  const real = await until(
    () => groupMembers(leader.pgrp).find((p) => p.comm === 'ffmpeg' && p.ppid === leader.pid)!,
    5000,
    'ffmpeg in the grab’s process group',
  );
  await until(() => sockets.length > 0, 5000, 'ffmpeg connecting to the silent camera');
  return { grab, pgid: leader.pgrp, ffmpegPid: real.pid };
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return ''; // exited since it was listed
  }
}

describe('the agent’s ffmpeg children', () => {
  it('kills the whole process group of an aborted snapshot grab: no ffmpeg left in it', async (ctx) => {
    requireDependency(ctx, onPath('ffmpeg'), 'ffmpeg', 'apt-get install ffmpeg');
    const abort = new AbortController();
    const { grab, pgid, ffmpegPid } = await hungGrab({ timeoutMs: 30_000, signal: abort.signal });
    const t0 = Date.now();
    abort.abort();
    await expect(grab).rejects.toThrow(FfmpegError);
    await until(() => groupMembers(pgid).length === 0, 3000, `process group ${pgid} to be empty`);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(processTable().find((p) => p.pid === ffmpegPid && p.state !== 'Z')).toBeUndefined();
    await until(() => liveFfmpegCount() === 0, 2000, 'the agent to reap its child');
  });

  it('kills the whole process group of a grab that runs out of time', async (ctx) => {
    requireDependency(ctx, onPath('ffmpeg'), 'ffmpeg', 'apt-get install ffmpeg');
    const { grab, pgid } = await hungGrab({ timeoutMs: 1500 });
    await expect(grab).rejects.toThrow(/no frame within 1500 ms/);
    await until(() => groupMembers(pgid).length === 0, 3000, `process group ${pgid} to be empty`);
    await until(() => liveFfmpegCount() === 0, 2000, 'the agent to reap its child');
  });

  it('kills an aborted stream probe at once (a camera removed, the health monitor stopping), and only that one', async (ctx) => {
    requireDependency(ctx, onPath('ffmpeg'), 'ffmpeg', 'apt-get install ffmpeg');
    const abort = new AbortController();
    // A grab left running beside the probe: the probe's abort must not end it.
    const bystander = await hungGrab({ timeoutMs: 30_000 });
    const probe = probeStream(`rtsp://127.0.0.1:${silentPort}/probe`, {
      seconds: 2,
      timeoutMs: 30_000,
      signal: abort.signal,
    });
    await until(() => liveFfmpegCount() === 2, 3000, 'the probe’s ffmpeg to start');
    const t0 = Date.now();
    abort.abort();
    const report = await probe;
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(report.timedOut).toBe(false);
    expect(report.error).toBe('probe aborted (ffmpeg killed)');
    expect(liveFfmpegCount()).toBe(1);
    expect(groupMembers(bystander.pgid).length).toBeGreaterThan(0);
  });

  it('grabs one JPEG frame from a real RTSP stream and leaves no ffmpeg behind', async (ctx) => {
    requireDependency(ctx, onPath('ffmpeg'), 'ffmpeg', 'apt-get install ffmpeg');
    sim = await startSimulator({ cameras: 1, basePort: BASE_PORT, rtsp: { port: 0 }, discovery: false });
    requireRtsp(ctx, sim);
    const frame = await grabFrame(sim.cameras[0]!.rtspUrl!, { timeoutMs: 15_000 });
    expect(frame.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(frame.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
    await until(() => liveFfmpegCount() === 0, 2000, 'the agent to reap its child');
  });
});
