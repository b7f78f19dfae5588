import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, REPO_ROOT } from '../../support/processes.js';
import { type Cleanup, signalAndWait, track } from './cleanup.js';
import { waitForPort } from './net.js';

const DEPLOY = join(REPO_ROOT, 'deploy/mosquitto');
export const HUB_MQTT_USER = 'camhub.hub';

function replaceLine(lines: string[], from: string, to: string) {
  const i = lines.indexOf(from);
  if (i < 0) throw new Error(`deploy/mosquitto/mosquitto.conf no longer has the line "${from}"`);
  lines[i] = to;
}

/**
 * A private Mosquitto running the production configuration (deploy/mosquitto/mosquitto.conf: auth, ACL, queue
 * limits, persistence), moved to a spare loopback port and a temp dir. It can be stopped cleanly, SIGKILLed and
 * started again on the same port and persistence directory, as a restarted production broker would be.
 */
export class PrivateMosquitto {
  private child: ChildProcess | null = null;
  private log = '';
  readonly url: string;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly passwords: Map<string, string>,
  ) {
    this.url = `mqtt://127.0.0.1:${port}`;
  }

  static async start(cleanup: Cleanup, sites: string[]): Promise<PrivateMosquitto> {
    const dir = mkdtempSync(join(tmpdir(), 'camhub-fault-mqtt-'));
    cleanup.defer(`mosquitto dir ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();
    const lines = readFileSync(join(DEPLOY, 'mosquitto.conf'), 'utf8').split('\n');
    replaceLine(lines, 'listener 1883', `listener ${port} 127.0.0.1`);
    replaceLine(lines, 'password_file /mosquitto/secrets/mosquitto.passwd', `password_file ${join(dir, 'passwd')}`);
    replaceLine(lines, 'acl_file /mosquitto/config/acl', `acl_file ${join(DEPLOY, 'acl')}`);
    replaceLine(lines, 'persistence_location /mosquitto/data/', `persistence_location ${dir}/`);
    replaceLine(lines, 'log_dest file /mosquitto/log/mosquitto.log', `log_dest file ${join(dir, 'mosquitto.log')}`);
    // Started as root, mosquitto would switch to the `mosquitto` user, which cannot read our temp files.
    lines.push(`user ${userInfo().username}`);
    writeFileSync(join(dir, 'mosquitto.conf'), lines.join('\n'));
    const passwords = new Map<string, string>();
    for (const user of [HUB_MQTT_USER, ...sites]) {
      const password = randomBytes(18).toString('base64url');
      passwords.set(user, password);
      execFileSync('mosquitto_passwd', [
        ...(passwords.size === 1 ? ['-c'] : []),
        '-b',
        join(dir, 'passwd'),
        user,
        password,
      ]);
    }
    const broker = new PrivateMosquitto(port, dir, passwords);
    cleanup.defer(`mosquitto :${port}`, () => broker.kill());
    await broker.start();
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

  get pid(): number | undefined {
    return this.child?.pid;
  }

  output(): string {
    return this.log;
  }

  async start(): Promise<void> {
    if (this.child) throw new Error('mosquitto is already running');
    const child = track(
      spawn('mosquitto', ['-c', join(this.dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    this.child = child;
    const keep = (d: Buffer) => (this.log = (this.log + d.toString()).slice(-20_000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    await waitForPort(this.port, `mosquitto on ${this.port}`, 15_000, () => {
      if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}:\n${this.log}`);
    });
  }

  /** SIGTERM: mosquitto saves its persistence file (queued messages of offline sessions) and exits. */
  async stop(): Promise<void> {
    const c = this.child;
    this.child = null;
    if (c) await signalAndWait(c, 'SIGTERM');
  }

  /** SIGKILL: a crash; only what the last autosave wrote survives. */
  async kill(): Promise<void> {
    const c = this.child;
    this.child = null;
    if (c) await signalAndWait(c, 'SIGKILL');
  }
}
