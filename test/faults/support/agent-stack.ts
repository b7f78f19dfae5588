import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentProcess, tempDir } from '../../support/agent-harness.js';
import { type SimCamera, startSimulator, type Simulator } from '@camhub/simulator';
import { sleep, waitFor } from '../../support/wait.js';
import type { CaseContext } from './case.js';
import { EventCollector } from './collector.js';
import { FAULT_SITE, missingIds, type Stack, startStack } from './stack.js';
import { TcpProxy } from './tcp-proxy.js';
import { simCameras, testAgentConfig } from '../../support/agent-config.js';

export interface AgentStack {
  stack: Stack;
  sim: Simulator;
  /** Between the agent and the broker: the agent's uplink, which a case can cut. */
  uplink: TcpProxy;
  collector: EventCollector;
  dataDir: string;
  configFile: string;
  /** Every agent process started so far (a killed run's promises count too). */
  agents: AgentProcess[];
  startAgent: () => Promise<AgentProcess>;
  /** Ids of every event any agent run logged as stored (durable in its outbox): what must arrive. */
  promised: () => { id: string; seq: number; camera: string }[];
}

export interface AgentStackOptions {
  cameras: number;
  outboxMaxBytes?: number;
  /** Mount a tmpfs of this many KiB as the agent's data dir (disk-full cases). */
  tmpfsKiB?: number;
  onvif?: Record<string, number>;
}

/** Mounts a small tmpfs (we run as root on a throwaway VM); unmounted by the cleanup. */
export function mountTmpfs(ctx: CaseContext, dir: string, kib: number): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k`, 'tmpfs', dir]);
  ctx.cleanup.defer(`tmpfs ${dir}`, () => {
    execFileSync('umount', ['-l', dir]);
  });
}

/** Hub, private services, simulated cameras, an uplink proxy and the agent's config: the whole edge-to-store path. */
export async function startAgentStack(ctx: CaseContext, opts: AgentStackOptions): Promise<AgentStack> {
  const stack = await startStack(ctx.cleanup, { postgres: ctx.postgres });
  await stack.startHub(stack.hubConfig());
  const basePort = 27_000 + Math.floor(Math.random() * 500) * 10;
  const sim = await startSimulator({ cameras: opts.cameras, basePort, rtsp: false, discovery: false });
  ctx.cleanup.defer('simulator', () => sim.close());
  const uplink = await TcpProxy.start(stack.broker.port);
  ctx.cleanup.defer('uplink proxy', () => uplink.close());
  const collector = await EventCollector.start(stack.broker, FAULT_SITE);
  ctx.cleanup.defer('collector', () => collector.close());
  const dir = tempDir('camhub-fault-agent-');
  ctx.cleanup.defer(`agent dir ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const dataDir = join(dir, 'data');
  if (opts.tmpfsKiB) mountTmpfs(ctx, dataDir, opts.tmpfsKiB);
  const configFile = join(dir, 'agent.json');
  writeFileSync(
    configFile,
    JSON.stringify(
      testAgentConfig({
        site: FAULT_SITE,
        mqtt: {
          url: `mqtt://127.0.0.1:${uplink.port}`,
          username: FAULT_SITE,
          password: stack.broker.password(FAULT_SITE),
          topicRoot: 'camhub/v1',
        },
        dataDir,
        outbox: { maxBytes: opts.outboxMaxBytes ?? 8 * 1024 * 1024 },
        onvif: { requestTimeoutMs: 1000, ...opts.onvif },
        health: { intervalSec: 5 },
        logLevel: 'info',
        cameras: simCameras(sim.cameras, () => ({ snapshot: 'off' })),
      }),
    ),
  );
  const agents: AgentProcess[] = [];
  ctx.cleanup.defer('agents', async () => {
    for (const a of agents) await a.kill('SIGKILL');
  });
  return {
    stack,
    sim,
    uplink,
    collector,
    dataDir,
    configFile,
    agents,
    startAgent: async () => {
      const before = sim.cameras.map((c) => c.stats().subscriptionsCreated);
      const agent = new AgentProcess(configFile);
      agents.push(agent);
      await waitFor(
        () => {
          if (agent.proc.exitCode !== null) throw new Error(`agent exited ${agent.proc.exitCode}: ${agent.stderr}`);
          return sim.cameras.every((c, i) => c.stats().subscriptionsCreated > before[i]!);
        },
        // tsx compiles the agent at start: seconds on a quiet machine, up to a minute on a loaded 2-core one (the four
        // agent cases failed here at load 14-17 with 20 s; camera-faults passes alone at load 2).
        { timeoutMs: 90_000, what: 'agent subscribed on every camera' },
      );
      return agent;
    },
    promised: () => agents.flatMap((a) => a.storedEvents()),
  };
}

let pulseCounter = 0;
/** One pulse event on a camera, tagged so that its arrival can be matched to the moment it was emitted. */
export function pulse(cam: SimCamera, emittedAt: Map<string, number>): void {
  const tag = `p${++pulseCounter}`;
  emittedAt.set(tag, Date.now());
  cam.emit('tns1:RuleEngine/LineDetector/Crossed', { ObjectId: tag });
}

/** Waits until PostgreSQL holds every promised event; returns the ones still missing at the deadline. */
export async function waitStored(a: AgentStack, timeoutMs: number): Promise<{ missing: string[]; doneAt: number }> {
  const promised = a.promised().map((e) => e.id);
  const ids = () => promised;
  let missing: string[] = [];
  await waitFor(
    async () => {
      missing = await missingIds(a.stack.db, ids());
      return missing.length === 0;
    },
    { timeoutMs, intervalMs: 250, what: 'every promised event stored' },
  ).catch(() => undefined);
  return { missing, doneAt: Date.now() };
}

export { sleep };
