import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, portAnswers } from '../../scripts/lib/net.js';
import { REPO_ROOT } from './processes.js';
import { waitFor } from './wait.js';

/**
 * The one Mosquitto launcher of the tests, fault suite and benchmarks: a private broker on a spare loopback port,
 * either open (no auth, no persistence: agent tests take "the broker" away and bring it back) or running our
 * production configuration (deploy/mosquitto/mosquitto.conf: auth, ACL, queue limits, persistence) with only the
 * port and paths moved into a temp dir.
 */

const DEPLOY = join(REPO_ROOT, 'deploy/mosquitto');
export const HUB_MQTT_USER = 'camhub.hub';

/** The production paths in mosquitto.conf, each of which must be found and moved into the broker's temp dir. */
export const PRODUCTION_LINES = {
  listener: 'listener 1883',
  passwordFile: 'password_file /mosquitto/secrets/mosquitto.passwd',
  aclFile: 'acl_file /mosquitto/config/acl',
  persistence: 'persistence_location /mosquitto/data/',
  logFile: 'log_dest file /mosquitto/log/mosquitto.log',
} as const;

/** deploy/mosquitto/mosquitto.conf on `port` with its files in `dir`; every other line (limits, auth) as shipped. */
export function productionConfig(port: number, dir: string, passwordFile = join(dir, 'passwd')): string {
  const lines = readFileSync(join(DEPLOY, 'mosquitto.conf'), 'utf8').split('\n');
  const replace = (from: string, to: string) => {
    const i = lines.indexOf(from);
    if (i < 0) throw new Error(`deploy/mosquitto/mosquitto.conf no longer has the line "${from}"`);
    lines[i] = to;
  };
  replace(PRODUCTION_LINES.listener, `listener ${port} 127.0.0.1`);
  replace(PRODUCTION_LINES.passwordFile, `password_file ${passwordFile}`);
  replace(PRODUCTION_LINES.aclFile, `acl_file ${join(DEPLOY, 'acl')}`);
  replace(PRODUCTION_LINES.persistence, `persistence_location ${dir}/`);
  replace(PRODUCTION_LINES.logFile, `log_dest file ${join(dir, 'mosquitto.log')}`);
  // Started as root, mosquitto would switch to the `mosquitto` user, which cannot read our temp files.
  lines.push(`user ${userInfo().username}`);
  return lines.join('\n');
}

/** The installed broker's version (`mosquitto -h` prints it in its usage text, and exits non-zero). */
export function mosquittoVersion(): string {
  const help = spawnSync('mosquitto', ['-h'], { encoding: 'utf8' });
  return /mosquitto version (\S+)/.exec(`${help.stdout}${help.stderr}`)?.[1] ?? 'unknown';
}

export interface MosquittoOptions {
  /** Given each child as it starts (the fault suite tracks them, to kill what an interrupted run leaves). */
  onSpawn?: (child: ChildProcess) => void;
}

/** A private broker. Start, stop (SIGTERM: it saves its persistence file), kill (SIGKILL: a crash), start again. */
export class MosquittoProcess {
  private child: ChildProcess | null = null;
  private log = '';
  readonly url: string;

  /** An open broker on `port`, or one run from `configFile` (which must listen on `port`). */
  constructor(
    readonly port: number,
    private readonly configFile?: string,
    private readonly options: MosquittoOptions = {},
  ) {
    this.url = `mqtt://127.0.0.1:${port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** What the broker printed lately (its log goes to a file in production mode). */
  output(): string {
    return this.log;
  }

  async start(): Promise<void> {
    if (this.child) throw new Error('mosquitto is already running');
    let config = this.configFile;
    if (!config) {
      const dir = mkdtempSync(join(tmpdir(), 'camhub-mosq-'));
      config = join(dir, 'mosquitto.conf');
      writeFileSync(config, `listener ${this.port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
    }
    const child = spawn('mosquitto', ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.options.onSpawn?.(child);
    this.child = child;
    const keep = (d: Buffer) => (this.log = (this.log + d.toString()).slice(-20_000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}:\n${this.log}`);
        return portAnswers(this.port);
      },
      { what: `mosquitto on port ${this.port}`, timeoutMs: 15_000 },
    );
  }

  /** SIGTERM: mosquitto saves its persistence file (queued messages of offline sessions) and exits. */
  stop(): Promise<void> {
    return this.signal('SIGTERM');
  }

  /** SIGKILL: a crash; only what the last autosave wrote survives. */
  kill(): Promise<void> {
    return this.signal('SIGKILL');
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const c = this.child;
    this.child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill(signal);
    const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

/** A broker running the production configuration, with the hub user and one user per site (user name = site id). */
export class ProductionMosquitto extends MosquittoProcess {
  private constructor(
    port: number,
    readonly dir: string,
    private readonly passwords: Map<string, string>,
    options: MosquittoOptions,
  ) {
    super(port, join(dir, 'mosquitto.conf'), options);
  }

  /** Creates and starts it; `remove()` kills it and deletes its directory. */
  static async start(sites: string[], options: MosquittoOptions = {}): Promise<ProductionMosquitto> {
    const dir = mkdtempSync(join(tmpdir(), 'camhub-mosq-prod-'));
    const port = await freePort();
    writeFileSync(join(dir, 'mosquitto.conf'), productionConfig(port, dir));
    // One password per user, the way deploy/mosquitto/add-site.sh stores them (mosquitto_passwd, hashed).
    const passwords = new Map<string, string>();
    for (const user of [HUB_MQTT_USER, ...sites]) {
      const password = randomBytes(18).toString('base64url');
      passwords.set(user, password);
      const create = passwords.size === 1 ? ['-c'] : [];
      execFileSync('mosquitto_passwd', [...create, '-b', join(dir, 'passwd'), user, password]);
    }
    const broker = new ProductionMosquitto(port, dir, passwords, options);
    try {
      await broker.start();
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    return broker;
  }

  get hubPassword(): string {
    return this.passwords.get(HUB_MQTT_USER)!;
  }

  password(user: string): string {
    const p = this.passwords.get(user);
    if (!p) throw new Error(`no broker user ${user}`);
    return p;
  }

  async remove(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
