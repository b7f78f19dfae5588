import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort, REPO_ROOT } from '../../support/processes.js';
import { waitFor } from '../../support/wait.js';

const DEPLOY = join(REPO_ROOT, 'deploy/mosquitto');
export const HUB_MQTT_USER = 'camhub.hub';

export interface BenchBroker {
  url: string;
  port: number;
  pid: number;
  version: string;
  /** Password of the hub user and of each site (user name = site id), as the production ACL expects. */
  hubPassword: string;
  sitePassword: (site: string) => string;
  stop: () => Promise<void>;
}

/** Replaces a production line of deploy/mosquitto/mosquitto.conf, failing loudly if it moved. */
function replaceLine(lines: string[], from: string, to: string) {
  const i = lines.indexOf(from);
  if (i < 0) throw new Error(`deploy/mosquitto/mosquitto.conf no longer has the line "${from}"`);
  lines[i] = to;
}

/**
 * A private Mosquitto with the production configuration (limits, ACL, password auth), only the port and paths
 * moved into a temp dir, so results do not depend on the machine's stock broker (max_queued_messages 1000...).
 */
export async function startBenchBroker(sites: string[]): Promise<BenchBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'camhub-bench-mqtt-'));
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

  // One password per user, the way deploy/mosquitto/add-site.sh stores them (mosquitto_passwd, hashed).
  const passwords = new Map<string, string>();
  const passwd = join(dir, 'passwd');
  for (const user of [HUB_MQTT_USER, ...sites]) {
    const password = randomBytes(18).toString('base64url');
    passwords.set(user, password);
    execFileSync('mosquitto_passwd', [...(passwords.size === 1 ? ['-c'] : []), '-b', passwd, user, password]);
  }

  let output = '';
  const child: ChildProcess = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}:\n${output}`);
      return accepts(port);
    },
    { timeoutMs: 10_000, what: `bench mosquitto on port ${port}` },
  );
  // `mosquitto -h` prints its version in the usage text (and exits non-zero).
  const help = spawnSync('mosquitto', ['-h'], { encoding: 'utf8' });
  const version = /mosquitto version (\S+)/.exec(`${help.stdout}${help.stderr}`)?.[1] ?? 'unknown';
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    version,
    hubPassword: passwords.get(HUB_MQTT_USER)!,
    sitePassword: (site) => {
      const p = passwords.get(site);
      if (!p) throw new Error(`no broker user for site ${site}`);
      return p;
    },
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
