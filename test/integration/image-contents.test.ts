// The images' contents, proven to run. There is no Docker engine here, so each Dockerfile is carried out the way
// Docker would for the files that matter: every stage's COPY from the build context, filtered by .dockerignore;
// its RUN steps (the build stage's `npx tsx scripts/build.ts …`, the deps stage's `npm ci --omit=dev …`) run in
// that stage's folder; the runtime stage's COPY --from take those stages' outputs. Then the hub and the agent start
// from their runtime folders, exactly with the image's CMD/ENTRYPOINT and ENV, against the real PostgreSQL (a
// database of this file's own), Redis (own queue prefix), Mosquitto (own topic root) and the ONVIF simulator.
//
// Not carried out: the runtime stage's RUN steps (users, apt packages, /var/lib folders: the OS, not the app) and
// the build stage's `npm ci`, whose place takes the repository's node_modules, installed from the same lockfile
// (linked, with the workspace packages pointing into the stage's own folder). Stages are cached by the hash of
// their inputs (instructions and copied files), like Docker's layer cache, so a second run skips `npm ci`.
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess } from '../support/agent-harness.js';
import { startSimulator, type Simulator } from '@camhub/simulator';
import { contextFiles, dockerignore, type Instruction, parseDockerfile } from '../support/dockerfile.js';
import { TEST_ADMIN_PASSWORD, type TestHubEnv } from '../support/hub.js';
import { useTestHubEnv } from '../support/hub-fixture.js';
import { uniqueToken } from '../support/ids.js';
import { clearRetained } from '../support/mqtt.js';
import { freePortBlock, type HubProcess, REPO_ROOT, spawnHub } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

const execFileAsync = promisify(execFile);
const LAYER_CACHE = join(tmpdir(), 'camhub-image-layers');
const isIgnored = dockerignore(readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8'));
const SITE = `img-${uniqueToken()}`;
const SITE_TOKEN = `tok-${uniqueToken()}${uniqueToken()}`;
// A free block in this file's own band (test/support/processes.ts: freePortBlock).
const BASE_PORT = await freePortBlock(8, 27000);

interface Stage {
  name: string;
  instructions: Instruction[];
}

interface Image {
  /** The runtime stage's /app. */
  dir: string;
  env: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
  healthcheck: string[];
}

function stagesOf(dockerfile: string): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of parseDockerfile(readFileSync(join(REPO_ROOT, dockerfile), 'utf8'))) {
    if (instruction.op === 'FROM') {
      const name = /\bAS\s+(\S+)$/i.exec(instruction.args)?.[1];
      if (!name) throw new Error(`${dockerfile}: every stage needs a name (FROM … AS name): ${instruction.args}`);
      stages.push({ name, instructions: [] });
    } else stages.at(-1)?.instructions.push(instruction);
  }
  return stages;
}

/** `/app/x` → `x`: every stage works in /app. */
function inApp(path: string): string {
  if (path === '.' || path === './') return '';
  if (path.startsWith('/')) {
    if (!path.startsWith('/app/')) throw new Error(`path outside the stage's WORKDIR /app: ${path}`);
    return path.slice('/app/'.length);
  }
  return path.replace(/^\.\//, '');
}

/** The repository's installed node_modules for a build stage, with the workspace links pointing into the stage. */
function linkBuildTools(dir: string) {
  const source = join(REPO_ROOT, 'node_modules');
  const target = join(dir, 'node_modules');
  mkdirSync(target, { recursive: true });
  for (const entry of readdirSync(source)) {
    if (entry === '@camhub') {
      mkdirSync(join(target, entry));
      // Relative links (../../hub …), as npm makes them: they resolve inside the stage's folder.
      for (const ws of readdirSync(join(source, entry))) {
        symlinkSync(readlinkSync(join(source, entry, ws)), join(target, entry, ws));
      }
    } else symlinkSync(join(source, entry), join(target, entry));
  }
}

/** Carries out one stage in a folder of its own (or takes it from the cache); returns the folder. */
async function runStage(
  image: string,
  stage: Stage,
  built: Map<string, { dir: string; key: string }>,
  work: string,
  final: boolean,
) {
  const hash = createHash('sha256').update(stage.name);
  for (const i of stage.instructions) {
    hash.update(`${i.op} ${i.args}\n`);
    if (i.op !== 'COPY') continue;
    const from = /--from=(\S+)/.exec(i.args)?.[1];
    if (from) hash.update(built.get(from)?.key ?? `missing stage ${from}`);
    else {
      for (const source of copyParts(i).sources) {
        for (const f of contextFiles(REPO_ROOT, source.replace(/\/$/, ''))
          .filter((f) => !isIgnored(f))
          .sort()) {
          hash.update(f).update(readFileSync(join(REPO_ROOT, f)));
        }
      }
    }
  }
  const key = hash.digest('hex').slice(0, 16);
  const cached = join(LAYER_CACHE, `${image}-${stage.name}-${key}`);
  if (!final && existsSync(cached)) return { dir: cached, key };

  const dir = join(work, stage.name);
  mkdirSync(dir, { recursive: true });
  for (const i of stage.instructions) {
    if (i.op === 'WORKDIR') expect(i.args, `${stage.name}: WORKDIR`).toBe('/app');
    else if (i.op === 'COPY') copy(i, dir, built);
    else if (i.op === 'RUN') {
      if (final) {
        // The OS part of the image (users, packages, /var/lib): nothing the app's folder depends on.
        expect(i.args, `${stage.name}: RUN must not change /app`).not.toContain('/app');
      } else if (/^npm ci\b/.test(i.args) && !i.args.includes('--omit=dev')) {
        linkBuildTools(dir);
      } else {
        await execFileAsync('sh', ['-c', i.args], {
          cwd: dir,
          env: { ...process.env, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' },
          maxBuffer: 64 * 1024 * 1024,
        }).catch((err: Error & { stdout?: string; stderr?: string }) => {
          throw new Error(`${stage.name}: RUN ${i.args} failed: ${err.message}\n${err.stdout}\n${err.stderr}`);
        });
      }
    }
  }
  if (final) return { dir, key };
  mkdirSync(LAYER_CACHE, { recursive: true });
  try {
    renameSync(dir, cached);
  } catch (err) {
    // Another run cached the same stage meanwhile: the same inputs, so the same result.
    if (!existsSync(cached)) throw err;
    rmSync(dir, { recursive: true, force: true });
  }
  // Older results of this stage (inputs since changed) are never used again.
  for (const old of readdirSync(LAYER_CACHE)) {
    if (old.startsWith(`${image}-${stage.name}-`) && old !== basename(cached)) {
      rmSync(join(LAYER_CACHE, old), { recursive: true, force: true });
    }
  }
  return { dir: cached, key };
}

function copyParts(i: Instruction): { from?: string; sources: string[]; dest: string } {
  const words = i.args.split(/\s+/);
  const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
  const rest = words.filter((w) => !w.startsWith('--'));
  return { from, sources: rest.slice(0, -1), dest: rest.at(-1)! };
}

function copy(i: Instruction, dir: string, built: Map<string, { dir: string }>) {
  const { from, sources, dest } = copyParts(i);
  const destPath = join(dir, inApp(dest));
  const intoDir = dest.endsWith('/') || dest === '.' || sources.length > 1;
  for (const source of sources) {
    if (from) {
      const stageDir = built.get(from)?.dir;
      if (!stageDir) throw new Error(`COPY --from=${from}: no such stage before this one`);
      const src = join(stageDir, inApp(source));
      if (!existsSync(src)) throw new Error(`COPY --from=${from} ${source}: not in that stage`);
      // A folder's contents go into dest; workspace links stay links (Docker copies symlinks as they are).
      const target = statSync(src).isDirectory() || !intoDir ? destPath : join(destPath, basename(src));
      cpSync(src, target, { recursive: true, verbatimSymlinks: true });
      continue;
    }
    const path = source.replace(/\/$/, '');
    const files = contextFiles(REPO_ROOT, path).filter((f) => !isIgnored(f));
    if (files.length === 0) throw new Error(`COPY ${source}: nothing in the build context (.dockerignore)`);
    const isDir = statSync(join(REPO_ROOT, path)).isDirectory();
    for (const f of files) {
      const target = isDir ? join(destPath, relative(path, f)) : intoDir ? join(destPath, basename(f)) : destPath;
      mkdirSync(dirname(target), { recursive: true });
      cpSync(join(REPO_ROOT, f), target);
    }
  }
}

/** `["a", "b"]` (exec form) → ['a', 'b']. */
function execForm(args: string): string[] {
  return JSON.parse(args) as string[];
}

async function assemble(dockerfile: string, work: string): Promise<Image> {
  const stages = stagesOf(dockerfile);
  const built = new Map<string, { dir: string; key: string }>();
  for (const [index, stage] of stages.entries()) {
    const image = basename(dockerfile, '.Dockerfile');
    built.set(stage.name, await runStage(image, stage, built, work, index === stages.length - 1));
  }
  const runtime = stages.at(-1)!;
  const env: Record<string, string> = {};
  for (const i of runtime.instructions.filter((i) => i.op === 'ENV')) {
    for (const pair of i.args.split(/\s+/)) env[pair.slice(0, pair.indexOf('='))] = pair.slice(pair.indexOf('=') + 1);
  }
  const last = (op: string) => runtime.instructions.filter((i) => i.op === op).at(-1)?.args;
  const healthcheck = last('HEALTHCHECK') ?? '';
  return {
    dir: built.get(runtime.name)!.dir,
    env,
    entrypoint: last('ENTRYPOINT') ? execForm(last('ENTRYPOINT')!) : [],
    cmd: last('CMD') ? execForm(last('CMD')!) : [],
    healthcheck: healthcheck.includes('CMD [') ? execForm(healthcheck.slice(healthcheck.indexOf('CMD [') + 4)) : [],
  };
}

/** Every file under dir, relative, node_modules left out. */
function appFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory() && !`${relative(dir, e.parentPath)}/`.startsWith('node_modules/'))
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .filter((f) => !f.split('/').includes('node_modules'))
    .sort();
}

let work: string;
let hubImage: Image;
let agentImage: Image;
let env: TestHubEnv;
let sim: Simulator;
let hub: HubProcess;
let agent: AgentProcess | null = null;
let token: string;

async function api(path: string, init: RequestInit = {}) {
  return fetch(`${hub.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string> | undefined) },
  });
}

const fixture = useTestHubEnv({ AGENT_TOKENS: `${SITE}=${SITE_TOKEN}` });
beforeAll(async () => {
  ({ env } = fixture);
  work = mkdtempSync(join(tmpdir(), 'camhub-image-'));
  // One after the other: each runs a bundler and maybe `npm ci` on two shared cores.
  hubImage = await assemble('deploy/hub.Dockerfile', join(work, 'hub'));
  agentImage = await assemble('deploy/agent.Dockerfile', join(work, 'agent'));

  sim = await startSimulator({ cameras: 1, basePort: BASE_PORT, rtsp: false, discovery: false });
  const [program, ...args] = hubImage.cmd;
  expect(program).toBe('node');
  hub = await spawnHub(
    env.config,
    // The image's ENV; the test's config (database, directories, port) overrides what it must. No loader
    // sneaks in from this process's NODE_OPTIONS.
    { ...hubImage.env, NODE_OPTIONS: '' },
    { args, cwd: hubImage.dir },
  );
  const login = await fetch(`${hub.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: TEST_ADMIN_PASSWORD }),
  });
  expect(login.status).toBe(200);
  token = ((await login.json()) as { token: string }).token;
}, 900_000);

afterAll(async () => {
  await agent?.kill('SIGTERM');
  // Retained status messages under this file's topic root would outlive it on the shared broker.
  if (env) await clearRetained(env.config.MQTT_TOPIC_ROOT, SITE, ['cam-0']);
  await hub?.stop();
  await sim?.close();
  // Removing the two assembled images (node_modules copied twice) takes tens of seconds on a busy disk.
  if (work) rmSync(work, { recursive: true, force: true });
}, 300_000);

describe.each([
  { name: 'hub', image: () => hubImage, entry: 'hub/dist/server.js' },
  { name: 'agent', image: () => agentImage, entry: 'edge-agent/dist/main.js' },
])('the $name image', ({ image, entry }) => {
  it('holds compiled JavaScript and production dependencies only: no TypeScript, no tsx, no build tools', () => {
    const { dir, entrypoint, cmd } = image();
    expect([...entrypoint, ...cmd]).toContain(entry);
    const files = appFiles(dir);
    expect(files).toContain(entry);
    expect(files.filter((f) => f.endsWith('.ts'))).toEqual([]);
    for (const tool of ['tsx', 'esbuild', 'vite', 'typescript', 'vitest']) {
      expect(existsSync(join(dir, 'node_modules', tool)), tool).toBe(false);
    }
    // Nothing above the folder could lend it a module: it resolves only what the image holds.
    for (let d = dirname(dir); d !== dirname(d); d = dirname(d)) {
      expect(existsSync(join(d, 'node_modules')), join(d, 'node_modules')).toBe(false);
    }
  });
});

describe('the hub, started from its image', () => {
  it('holds the migrations and the built console next to its bundle', () => {
    const files = appFiles(hubImage.dir);
    expect(files.filter((f) => f.startsWith('hub/migrations/') && f.endsWith('.sql')).length).toBe(
      readdirSync(join(REPO_ROOT, 'hub/migrations')).filter((f) => f.endsWith('.sql')).length,
    );
    expect(files).toContain('hub/console/dist/index.html');
  });

  it('serves the built console at / (not the "console not built" page), with its assets', async () => {
    const res = await fetch(`${hub.url}/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toBe(readFileSync(join(hubImage.dir, 'hub/console/dist/index.html'), 'utf8'));
    expect(html).not.toContain('npm run console:build');
    const script = /<script[^>]+src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${hub.url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toContain('immutable');
  });

  it('serves the API, and the image HEALTHCHECK passes against it', async () => {
    const res = await api('/api/v1/cameras');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { items: unknown[] }).items).toEqual([]);
    expect((await fetch(`${hub.url}/api/v1/cameras`)).status).toBe(401);

    const [program, ...args] = hubImage.healthcheck;
    expect(program).toBe('node');
    const port = new URL(hub.url).port;
    const probe = await execFileAsync(process.execPath, args, {
      cwd: hubImage.dir,
      env: { ...process.env, PORT: port },
    });
    expect(probe.stderr).toBe('');
  });

  it('runs its compiled CLI from the image: migrate finds every migration applied', async () => {
    const { stdout } = await execFileAsync(process.execPath, ['hub/dist/cli.js', 'migrate'], {
      cwd: hubImage.dir,
      env: { ...process.env, ...hubImage.env, NODE_OPTIONS: '', DATABASE_URL: env.config.DATABASE_URL },
    });
    expect(stdout).toContain('database schema is up to date');
  });
});

describe('the agent, started from its image', () => {
  it('publishes a motion event the hub stores, and uploads its snapshot to the hub', async () => {
    const dataDir = join(work, 'agent-data');
    const configFile = join(work, 'agent.json');
    const cam = sim.cameras[0]!;
    writeFileSync(
      configFile,
      JSON.stringify({
        site: SITE,
        mqtt: { url: 'mqtt://127.0.0.1:1883', topicRoot: env.config.MQTT_TOPIC_ROOT },
        hub: { url: hub.url, token: SITE_TOKEN },
        dataDir,
        outbox: { maxBytes: 4 * 1024 * 1024 },
        onvif: { pullTimeoutSec: 1, requestTimeoutMs: 2000, backoffMinMs: 100, backoffMaxMs: 1000 },
        health: { intervalSec: 2, stream: false }, // the simulator runs without RTSP here
        logLevel: 'info',
        cameras: [
          {
            id: 'cam-0',
            name: 'Image test',
            host: cam.host,
            port: cam.port,
            username: cam.username,
            password: cam.password,
          },
        ],
      }),
    );
    // ENTRYPOINT, with this test's config in place of CMD's /etc/camhub/agent.yaml.
    const [program, ...args] = agentImage.entrypoint;
    expect(program).toBe('node');
    expect(agentImage.cmd).toEqual(['--config', '/etc/camhub/agent.yaml']);
    agent = new AgentProcess(configFile, { ...agentImage.env, NODE_OPTIONS: '' }, { args, cwd: agentImage.dir });

    const running = agent;
    const output = () => `agent output:\n${running.stdout.slice(-3000)}\n${running.stderr.slice(-3000)}`;
    await waitFor(
      () => {
        if (running.proc.exitCode !== null) throw new Error(`agent exited with ${running.proc.exitCode}; ${output()}`);
        return cam.stats().activeSubscriptions === 1;
      },
      { timeoutMs: 30_000, what: 'agent subscribed' },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${output()}`);
    });
    cam.setMotion(true);
    const event = await waitFor(
      async () => {
        const res = await api(`/api/v1/events?site=${SITE}&type=motion`);
        const items = ((await res.json()) as { items: { id: string; state: string; snapshot?: string }[] }).items;
        return items.find((e) => e.state === 'start');
      },
      { timeoutMs: 30_000, intervalMs: 250, what: 'motion start stored by the hub' },
    );
    cam.setMotion(false);
    expect(event.snapshot).toMatch(/^sha256:[0-9a-f]{64}$/);
    const jpeg = await waitFor(
      async () => {
        const res = await api(`/api/v1/events/${event.id}/snapshot`);
        return res.status === 200 ? Buffer.from(await res.arrayBuffer()) : null;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: 'snapshot uploaded to the hub' },
    );
    expect(jpeg.subarray(0, 2).toString('hex')).toBe('ffd8');
    expect(`sha256:${createHash('sha256').update(jpeg).digest('hex')}`).toBe(event.snapshot);
    // The version it reports comes from edge-agent/package.json, read beside the bundle.
    expect(agent.logs().find((l) => l.msg === 'agent started')).toMatchObject({ version: '0.1.0' });
    // Every ffmpeg starts through the group-leader script beside the bundle (edge-agent/src/paths.ts): present,
    // executable, and running the ffmpeg it is given in a process group of its own.
    const launched = spawnSync(
      join(agentImage.dir, 'edge-agent/bin/ffmpeg-group-leader'),
      ['-c', 'read -r pid comm state ppid pgrp rest < /proc/$$/stat; echo "$pid $pgrp"'],
      {
        env: { ...process.env, CAMHUB_FFMPEG_BIN: 'sh' },
        encoding: 'utf8',
      },
    );
    expect(launched.status, launched.stderr).toBe(0);
    const [pid, pgid] = launched.stdout.trim().split(/\s+/).map(Number);
    expect(launched.stderr).toContain(`camhub-ffmpeg-group ${pid}`);
    expect(pgid).toBe(pid);
  });
});
