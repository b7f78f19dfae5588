// The deployment files, checked as far as this machine allows: it has no Docker engine, so the compose file and
// Dockerfiles are checked structurally (services, paths on disk, healthchecks, secrets only from the environment),
// and the parts that can run here do: the container health probe, the systemd units (systemd-analyze), the
// credential script.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig as loadAgentConfig } from '../../edge-agent/src/config.js';
import { contextFiles, dockerignore, parseDockerfile } from '../support/dockerfile.js';
import { onPath, requireDependency } from '../support/dependencies.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const execFileAsync = promisify(execFile);

interface ComposeHealthcheck {
  test: string | string[];
}
interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: (string | { type: string; source: string; target: string; bind?: { create_host_path?: boolean } })[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: ComposeHealthcheck;
  profiles?: string[];
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
}

const compose = parseYaml(read('docker-compose.yml'), { merge: true }) as ComposeFile;
const service = (name: string): ComposeService => {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
};

/** `${NAME}`, `${NAME:-default}`, `${NAME:?message}` references in a compose string. */
function interpolations(value: string): { name: string; op: string; arg: string }[] {
  return [...value.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g)].map((m) => ({
    name: m[1]!,
    op: m[2] ?? '',
    arg: m[3] ?? '',
  }));
}

const SECRET_NAME = /PASS|SECRET|TOKEN|AUTH|KEY/i;

describe('docker-compose.yml', () => {
  it('has the four server services and an edge agent only under the edge profile', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['agent', 'hub', 'mosquitto', 'postgres', 'redis']);
    expect(service('postgres').image).toMatch(/^postgres:16(\b|-)/);
    expect(service('redis').image).toMatch(/^redis:7(\b|-)/);
    expect(service('mosquitto').image).toMatch(/^eclipse-mosquitto:2(\b|$|\.)/);
    expect(service('agent').profiles).toEqual(['edge']);
    for (const name of ['postgres', 'redis', 'mosquitto', 'hub']) expect(service(name).profiles).toBeUndefined();
  });

  it('builds hub and agent from Dockerfiles that exist, with the repository root as context', () => {
    for (const [name, dockerfile] of [
      ['hub', 'deploy/hub.Dockerfile'],
      ['agent', 'deploy/agent.Dockerfile'],
    ] as const) {
      const build = service(name).build;
      expect(build, name).toEqual({ context: '.', dockerfile });
      expect(existsSync(join(ROOT, build!.dockerfile))).toBe(true);
    }
  });

  it('starts the hub only once PostgreSQL, Redis and Mosquitto are healthy', () => {
    expect(service('hub').depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
      mosquitto: { condition: 'service_healthy' },
    });
  });

  it('gives every stateful service and the hub a healthcheck that exercises the service', () => {
    const test = (name: string) => [service(name).healthcheck?.test].flat().join(' ');
    expect(test('postgres')).toContain('pg_isready');
    expect(test('redis')).toContain('redis-cli ping');
    expect(test('mosquitto')).toContain('mosquitto_sub');
    expect(test('hub')).toContain('/readyz');
  });

  it('publishes the hub on 8080, the broker on loopback only, and neither database', () => {
    expect(service('hub').ports).toEqual(['${CAMHUB_HTTP_PORT:-8080}:8080']);
    expect(service('mosquitto').ports).toEqual(['127.0.0.1:1883:1883']);
    expect(service('postgres').ports).toBeUndefined();
    expect(service('redis').ports).toBeUndefined();
  });

  it('declares every named volume, and every bind-mounted file exists (or must exist: create_host_path false)', () => {
    const named = new Set<string>();
    for (const [name, s] of Object.entries(compose.services)) {
      for (const v of s.volumes ?? []) {
        const source = typeof v === 'string' ? v.split(':')[0]! : v.source;
        if (source.startsWith('.') || source.startsWith('/') || source.startsWith('${')) {
          if (typeof v !== 'string' && v.bind?.create_host_path === false) continue;
          expect(existsSync(join(ROOT, source)), `${name}: bind source ${source}`).toBe(true);
        } else named.add(source);
      }
    }
    expect([...named].sort()).toEqual(Object.keys(compose.volumes).sort());
    // The data that matters lives on volumes, not in containers.
    const targets = (name: string) => (service(name).volumes ?? []).map((v) => (typeof v === 'string' ? v : v.target));
    expect(targets('postgres')).toContain('postgres-data:/var/lib/postgresql/data');
    expect(targets('redis')).toContain('redis-data:/data');
    expect(targets('mosquitto')).toEqual(
      expect.arrayContaining(['mosquitto-data:/mosquitto/data', 'mosquitto-log:/mosquitto/log']),
    );
    expect(targets('hub')).toEqual([
      'snapshots:/var/lib/camhub/snapshots',
      'hub-keys:/var/lib/camhub/keys',
      'exports:/var/lib/camhub/exports',
    ]);
    // The export-signing key and the archives are on those volumes: recreating the container keeps both.
    expect(service('hub').environment).toMatchObject({
      SNAPSHOT_DIR: '/var/lib/camhub/snapshots',
      HUB_KEY_FILE: '/var/lib/camhub/keys/hub-ed25519.pem',
      EXPORT_DIR: '/var/lib/camhub/exports',
    });
    expect(targets('agent')).toEqual(['/etc/camhub/agent.yaml', 'agent-outbox:/var/lib/camhub-agent']);
  });

  it('runs Redis with our durability settings (AOF, fsync every second, no eviction)', () => {
    expect(service('redis').command?.slice(0, 2)).toEqual(['redis-server', '/usr/local/etc/redis/camhub.conf']);
    expect(service('redis').volumes).toContain('./deploy/redis/redis.conf:/usr/local/etc/redis/camhub.conf:ro');
    const conf = read('deploy/redis/redis.conf')
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('#'));
    expect(conf).toEqual(
      expect.arrayContaining(['appendonly yes', 'appendfsync everysec', 'maxmemory-policy noeviction']),
    );
  });

  it('takes every secret from the environment, required for the server services', () => {
    const problems: string[] = [];
    for (const [name, s] of Object.entries(compose.services)) {
      const optionalService = (s.profiles ?? []).length > 0;
      const values: [string, string][] = Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v)]);
      // Secrets passed as arguments (redis-server --requirepass <secret>).
      (s.command ?? []).forEach((arg, i, all) => {
        if (i > 0 && /pass|secret|token/i.test(all[i - 1]!)) values.push([`command ${all[i - 1]}`, arg]);
      });
      for (const [key, value] of values) {
        // Credentials inside URLs: scheme://user:SECRET@host.
        const inUrl = /^[a-z]+:\/\/[^:/@]*:([^@]+)@/.exec(value)?.[1];
        // NAME_FILE is where a secret lives (HUB_KEY_FILE), not the secret.
        const secret = inUrl ?? (SECRET_NAME.test(key) && !/(USERNAME|_FILE)$/.test(key) ? value : undefined);
        if (secret === undefined) continue;
        const refs = interpolations(secret);
        const only = refs.length === 1 && refs[0] && secret === secret.match(/\$\{[^}]*\}/)?.[0];
        if (!only) {
          problems.push(`${name}.${key}: "${secret}" is not a single \${VAR} reference`);
          continue;
        }
        const ref = refs[0]!;
        if (ref.op.endsWith('-') && ref.arg !== '') problems.push(`${name}.${key}: has a literal default "${ref.arg}"`);
        // Compose interpolates every service, even those whose profile is off, so optional services cannot
        // require a variable; the server services must.
        if (!optionalService && ref.op !== ':?') problems.push(`${name}.${key}: must be \${${ref.name}:?message}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('documents every variable it uses in deploy/.env.example, with no secret filled in', () => {
    const used = new Set(interpolations(read('docker-compose.yml')).map((r) => r.name));
    const example = new Map(
      read('deploy/.env.example')
        .split('\n')
        .filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
    );
    expect([...used].filter((name) => !example.has(name))).toEqual([]);
    for (const [name, value] of example) {
      if (SECRET_NAME.test(name) && !name.endsWith('USERNAME')) expect(value, name).toBe('');
    }
  });

  it('gives the hub a stable MQTT client id (its persistent session outlives restarts)', () => {
    expect(service('hub').environment?.MQTT_CLIENT_ID).toBe('${MQTT_CLIENT_ID:-camhub-hub-1}');
    expect(service('hub').environment?.MQTT_URL).toBe('mqtt://mosquitto:1883');
  });
});

describe('deploy/agent/agent.example.yaml', () => {
  it("is a valid agent config whose outbox is the image's volume", () => {
    const config = loadAgentConfig(join(ROOT, 'deploy/agent/agent.example.yaml'), {});
    expect(config.dataDir).toBe('/var/lib/camhub-agent');
    expect(config.mqtt.username).toBe(config.site);
    expect(read('deploy/agent.Dockerfile')).toContain('VOLUME ["/var/lib/camhub-agent"]');
  });
});

// --- Dockerfiles -----------------------------------------------------------------------------------------------

const isIgnored = dockerignore(read('.dockerignore'));
const filesUnder = (path: string) => contextFiles(ROOT, path);

describe.each([
  {
    file: 'deploy/hub.Dockerfile',
    user: 'camhub',
    pkg: 'hub',
    entry: 'hub/dist/server.js',
    source: 'hub/src/server.ts',
  },
  {
    file: 'deploy/agent.Dockerfile',
    user: 'camhub-agent',
    pkg: 'edge-agent',
    entry: 'edge-agent/dist/main.js',
    source: 'edge-agent/src/main.ts',
  },
])('$file', ({ file, user, pkg, entry, source }) => {
  const instructions = parseDockerfile(read(file));
  const stages = instructions.filter((i) => i.op === 'FROM');

  it('is multi-stage on Node 22 bookworm-slim: build, production dependencies, runtime', () => {
    expect(instructions.find((i) => i.op === 'ARG')?.args).toBe('NODE_IMAGE=node:22-bookworm-slim');
    expect(stages.map((s) => s.args)).toEqual([
      '${NODE_IMAGE} AS build',
      '${NODE_IMAGE} AS deps',
      '${NODE_IMAGE} AS runtime',
    ]);
    const stage = (n: number) =>
      instructions.slice(instructions.indexOf(stages[n]!), instructions.indexOf(stages[n + 1]!));
    expect(stage(0).some((i) => i.op === 'RUN' && i.args === `npx tsx scripts/build.ts ${pkg}`)).toBe(true);
    expect(stage(1).some((i) => i.op === 'RUN' && /npm ci --omit=dev .*--workspace=/.test(i.args))).toBe(true);
  });

  it('runs the compiled bundle from the build stage with plain node, without tsx or TypeScript sources', () => {
    const runtime = instructions.slice(instructions.indexOf(stages.at(-1)!));
    const copies = runtime.filter((i) => i.op === 'COPY').map((i) => i.args);
    expect(copies).toContain(`--from=build /app/${pkg}/dist/ ${pkg}/dist/`);
    expect(copies.filter((c) => /\bsrc\b/.test(c))).toEqual([]);
    expect(read(file)).not.toMatch(/--import", "tsx"/);
    // The bundle is built from this source (scripts/build.ts).
    expect(existsSync(join(ROOT, source)), source).toBe(true);
    expect(read('scripts/build.ts')).toContain(`'${source}'`);
  });

  it('runs as a non-root user, with a healthcheck and the process entry point', () => {
    const users = instructions.filter((i) => i.op === 'USER').map((i) => i.args);
    expect(users.at(-1)).toBe(user);
    expect(instructions.some((i) => i.op === 'HEALTHCHECK' && i.args.includes('CMD'))).toBe(true);
    const start = instructions
      .filter((i) => i.op === 'CMD' || i.op === 'ENTRYPOINT')
      .map((i) => i.args)
      .join(' ');
    expect(start).toMatch(new RegExp(`^\\["node", "${entry}"\\]`));
  });

  it('copies only files that exist and that .dockerignore lets into the build context', () => {
    const copies = instructions.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'));
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const source of sources) {
        const path = source.replace(/\/$/, '');
        expect(existsSync(join(ROOT, path)), `${file}: COPY ${source}`).toBe(true);
        const sent = filesUnder(path).filter((f) => !isIgnored(f));
        expect(sent.length, `${file}: COPY ${source} sends nothing`).toBeGreaterThan(0);
      }
    }
  });
});

describe('.dockerignore', () => {
  it('sends sources, manifests and migrations but no secrets, tests, dependencies or history', () => {
    for (const path of [
      'package.json',
      'package-lock.json',
      'hub/src/server.ts',
      'hub/migrations/001_ingest.sql',
      'shared/src/index.ts',
      'edge-agent/src/config.ts',
      'test/package.json',
      'deploy/docker/healthcheck.mjs',
      'scripts/build.ts',
      'tsconfig.json',
      'tsconfig.base.json',
      'hub/console/index.html',
      'hub/console/vite.config.ts',
    ]) {
      expect(isIgnored(path), path).toBe(false);
    }
    for (const path of [
      '.env',
      '.git/HEAD',
      'node_modules/mqtt/package.json',
      'hub/node_modules/x/index.js',
      'deploy/mosquitto/secrets/mosquitto.passwd',
      'deploy/agent/agent.yaml',
      'hub/src/config.spec.ts',
      'test/integration/deploy.test.ts',
      'docs/operations.md',
      // Build output is made inside the image, never sent from a developer's tree.
      'hub/dist/server.js',
      'hub/console/dist/index.html',
      'edge-agent/dist/main.js',
      'scripts/demo.ts',
    ]) {
      expect(isIgnored(path), path).toBe(true);
    }
  });
});

// --- the hub's container health probe, run for real -------------------------------------------------------

describe('deploy/docker/healthcheck.mjs', () => {
  let server: Server;
  let port: number;
  let readyStatus = 200;

  beforeAll(async () => {
    server = createServer((req, res) => {
      res.statusCode = req.url === '/readyz' ? readyStatus : 404;
      res.end(readyStatus === 200 ? '{"status":"ok"}' : '{"status":"redis down"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const probe = (env: Record<string, string>) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'deploy/docker/healthcheck.mjs'), '/readyz'], {
        env: { ...process.env, ...env },
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });

  it('exits 0 when /readyz answers 2xx', async () => {
    readyStatus = 200;
    expect((await probe({ PORT: String(port) })).code).toBe(0);
  });

  it('exits 1 and reports the body when /readyz answers 503', async () => {
    readyStatus = 503;
    const result = await probe({ PORT: String(port) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('HTTP 503');
    expect(result.stderr).toContain('redis down');
  });

  it('exits 1 when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect((await probe({ PORT: String(freePort) })).code).toBe(1);
  });
});

// --- systemd units --------------------------------------------------------------------------------------------

/** `Key=value` lines of a unit file; keys that repeat keep every value. */
function unitSettings(text: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) settings.set(m[1]!, [...(settings.get(m[1]!) ?? []), m[2]!]);
  }
  return settings;
}

describe.each([
  {
    unit: 'camhub-hub.service',
    user: 'camhub',
    state: 'camhub camhub/snapshots camhub/keys camhub/exports',
    writable: '/var/lib/camhub',
    exec: '/usr/bin/node hub/dist/server.js',
    source: 'hub/src/server.ts',
  },
  {
    unit: 'camhub-agent.service',
    user: 'camhub-agent',
    state: 'camhub-agent',
    writable: '/var/lib/camhub-agent',
    exec: '/usr/bin/node edge-agent/dist/main.js --config /etc/camhub/agent.yaml',
    source: 'edge-agent/src/main.ts',
  },
])('deploy/systemd/$unit', ({ unit, user, state, writable, exec, source }) => {
  const text = read(`deploy/systemd/${unit}`);
  const s = unitSettings(text);
  const one = (key: string) => s.get(key)?.[0];

  it('runs as its own user, restarts on failure with a delay, and keeps its data under StateDirectory', () => {
    expect(one('User')).toBe(user);
    expect(one('Restart')).toBe('on-failure');
    expect(one('RestartSec')).toBeDefined();
    expect(one('StartLimitIntervalSec')).toBe('0');
    expect(one('StateDirectory')).toBe(state);
    expect(one('ReadWritePaths')).toBe(writable);
  });

  it('is hardened', () => {
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('PrivateTmp')).toBe('yes');
    expect(one('CapabilityBoundingSet')).toBe('');
  });

  it('starts the compiled bundle with plain node, reading /etc/camhub', () => {
    expect(one('ExecStart')).toBe(exec);
    expect(existsSync(join(ROOT, source)), source).toBe(true);
    expect(read('scripts/build.ts')).toContain(`'${source}'`);
    if (unit === 'camhub-hub.service') expect(one('EnvironmentFile')).toBe('/etc/camhub/hub.env');
  });

  if (unit === 'camhub-hub.service') {
    it('keeps snapshots, the export-signing key and the exports in its state directories', () => {
      const env = new Map(
        (s.get('Environment') ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
      );
      expect(env.get('SNAPSHOT_DIR')).toBe('/var/lib/camhub/snapshots');
      expect(env.get('HUB_KEY_FILE')).toBe('/var/lib/camhub/keys/hub-ed25519.pem');
      expect(env.get('EXPORT_DIR')).toBe('/var/lib/camhub/exports');
    });
  }

  it('passes systemd-analyze verify (only the systemd >= 254 restart keys may be unknown)', async (ctx) => {
    requireDependency(ctx, onPath('systemd-analyze'), 'systemd-analyze', 'apt-get install systemd');
    const dir = mkdtempSync(join(tmpdir(), 'camhub-units-'));
    try {
      writeFileSync(join(dir, unit), text);
      const result = await execFileAsync('systemd-analyze', ['verify', '--man=no', join(dir, unit)], {
        env: { ...process.env, SYSTEMD_LOG_LEVEL: 'notice' },
      }).catch((err: { stdout: string; stderr: string; code: number }) => err);
      const complaints = `${result.stdout}${result.stderr}`
        .split('\n')
        .filter((l) => l.trim() && !/Unknown key '(RestartSteps|RestartMaxDelaySec)'/.test(l));
      expect(complaints).toEqual([]);
      expect('code' in result ? result.code : 0).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
