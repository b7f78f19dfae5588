// Our production broker config, run for real: a private `mosquitto` process started from
// deploy/mosquitto/mosquitto.conf (only the port and file paths changed), users created with our scripts, and
// mqtt.js clients proving what the ACL and the queue settings actually do. Mosquitto 2.0.11 here.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { freePort } from '../../scripts/lib/net.js';
import { uniqueToken } from '../support/ids.js';
import { MosquittoProcess, productionConfig } from '../support/mosquitto.js';
import { sleep, waitFor } from '../support/wait.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPTS = join(ROOT, 'deploy/mosquitto');
const execFileAsync = promisify(execFile);

let dir: string;
let broker: MosquittoProcess;
const creds = { siteA: '', siteB: '', hub: '' };

async function runScript(script: string, args: string[]) {
  return execFileAsync(join(SCRIPTS, script), args, {
    env: { ...process.env, MOSQUITTO_PASSWORD_FILE: join(dir, 'mosquitto.passwd') },
  });
}
const passwordIn = (stdout: string) => {
  const password = /^\s*password: (\S+)$/m.exec(stdout)?.[1];
  if (!password) throw new Error(`no password in script output:\n${stdout}`);
  return password;
};

const clients: MqttClient[] = [];
function connect(
  username: string | undefined,
  password: string | undefined,
  opts: IClientOptions = {},
  seen?: string[],
) {
  return new Promise<MqttClient>((resolve, reject) => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${broker.port}`, {
      username,
      password,
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      clientId: `deploy-test-${uniqueToken()}`,
      ...opts,
    });
    clients.push(client);
    // Attached before CONNACK: a resumed session's queued messages can arrive in the same read as the CONNACK.
    if (seen) client.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}
const asHub = (opts: IClientOptions = {}, seen?: string[]) => connect('camhub.hub', creds.hub, opts, seen);
const asSite = (site: 'site-a' | 'site-b', opts: IClientOptions = {}) =>
  connect(site, site === 'site-a' ? creds.siteA : creds.siteB, opts);

/** Every message a client receives, as `topic payload`. */
function record(client: MqttClient): string[] {
  const seen: string[] = [];
  client.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
  return seen;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'camhub-mosquitto-'));
  const site = await runScript('add-site.sh', ['site-a']);
  creds.siteA = passwordIn(site.stdout);
  creds.siteB = `site-b-${uniqueToken()}-pass`;
  await runScript('add-site.sh', ['site-b', creds.siteB]);
  creds.hub = passwordIn((await runScript('add-hub-user.sh', [])).stdout);

  const config = join(dir, 'mosquitto.conf');
  const port = await freePort();
  writeFileSync(config, productionConfig(port, dir, join(dir, 'mosquitto.passwd')));
  broker = new MosquittoProcess(port, config);
  await broker.start();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('credential scripts', () => {
  it('generate a strong password and store only its hash', () => {
    expect(creds.siteA).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const passwd = readFileSync(join(dir, 'mosquitto.passwd'), 'utf8');
    expect(passwd).toMatch(/^site-a:\$7\$/m);
    expect(passwd).toMatch(/^camhub\.hub:\$7\$/m);
    expect(passwd).not.toContain(creds.siteA);
    expect(passwd).not.toContain(creds.siteB);
  });

  it.each([
    ['Site-A', 'invalid site id'],
    ['-leading-dash', 'invalid site id'],
    ['a'.repeat(65), 'invalid site id'],
    ['has/slash', 'invalid site id'],
  ])('refuse the site id %j', async (siteId, message) => {
    const failure = await runScript('add-site.sh', [siteId]).catch((err: { code: number; stderr: string }) => err);
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toContain(message);
  });

  it('refuse a weak password', async () => {
    const failure = await runScript('add-site.sh', ['site-c', 'short']).catch((err: { code: number }) => err);
    expect(failure).toMatchObject({ code: 2 });
    expect(readFileSync(join(dir, 'mosquitto.passwd'), 'utf8')).not.toMatch(/^site-c:/m);
  });
});

describe('authentication', () => {
  it.each([4, 5] as const)('refuses anonymous clients (MQTT protocol level %i)', async (protocolVersion) => {
    const err = await connect(undefined, undefined, { protocolVersion }).catch((e: { code: number }) => e);
    // MQTT 3.1.1 CONNACK return code 5 and MQTT 5 reason code 0x87: "not authorized".
    expect(err).toMatchObject({ code: protocolVersion === 5 ? 0x87 : 5 });
  });

  it('refuses a wrong password', async () => {
    const err = await connect('site-a', `${creds.siteA}x`).catch((e: { code: number }) => e);
    expect(err).toMatchObject({ code: 0x87 });
  });
});

describe('ACL', () => {
  it("delivers a site's publish below its own site to the hub", async () => {
    const hub = await asHub();
    const seen = record(hub);
    await hub.subscribeAsync('camhub/v1/#', { qos: 1 });
    const site = await asSite('site-a');
    // mqtt.js rejects when the PUBACK carries a failure reason code, so resolving means the broker took it.
    await expect(
      site.publishAsync('camhub/v1/site-a/cameras/cam-01/events', '{"n":1}', { qos: 1 }),
    ).resolves.toBeDefined();
    await waitFor(() => seen.includes('camhub/v1/site-a/cameras/cam-01/events {"n":1}'), { what: 'hub delivery' });
  });

  it("refuses a site's publish below another site: MQTT 5 gets PUBACK 0x87, and nothing is delivered", async () => {
    const hub = await asHub();
    const seen = record(hub);
    await hub.subscribeAsync('camhub/v1/#', { qos: 1 });
    const site = await asSite('site-a');
    const refused = await site
      .publishAsync('camhub/v1/site-b/cameras/cam-01/events', '{"forged":5}', { qos: 1 })
      .then(() => 'accepted')
      .catch((err: { code: number }) => err.code);
    expect(refused).toBe(0x87);
    // A later message from the same client arriving proves the refused one was not merely late.
    await site.publishAsync('camhub/v1/site-a/agent', '{"marker":5}', { qos: 1 });
    await waitFor(() => seen.includes('camhub/v1/site-a/agent {"marker":5}'), { what: 'marker' });
    expect(seen.filter((m) => m.includes('forged'))).toEqual([]);
  });

  it('drops it silently for MQTT 3.1.1 (PUBACK success, nothing delivered)', async () => {
    const hub = await asHub();
    const seen = record(hub);
    await hub.subscribeAsync('camhub/v1/#', { qos: 1 });
    const site = await asSite('site-a', { protocolVersion: 4 });
    await expect(
      site.publishAsync('camhub/v1/site-b/cameras/cam-01/events', '{"forged":4}', { qos: 1 }),
    ).resolves.toBeDefined();
    await site.publishAsync('camhub/v1/site-a/agent', '{"marker":4}', { qos: 1 });
    await waitFor(() => seen.includes('camhub/v1/site-a/agent {"marker":4}'), { what: 'marker' });
    expect(seen.filter((m) => m.includes('forged'))).toEqual([]);
  });

  it("lets a site subscribe (mosquitto 2.0 grants it) but never delivers it another site's messages", async () => {
    const spy = await asSite('site-b');
    const spied = record(spy);
    const granted = await spy.subscribeAsync('camhub/v1/#', { qos: 1 });
    // What mosquitto 2.0.11 really does: the SUBACK grants QoS 1; the read check happens per delivery.
    expect(granted.map((g) => g.qos)).toEqual([1]);
    const hub = await asHub();
    const seen = record(hub);
    await hub.subscribeAsync('camhub/v1/#', { qos: 1 });
    const site = await asSite('site-a');
    await site.publishAsync('camhub/v1/site-a/cameras/cam-02/events', '{"secret":1}', { qos: 1 });
    await waitFor(() => seen.some((m) => m.includes('"secret":1')), { what: 'hub delivery' });
    await sleep(300);
    expect(spied).toEqual([]);
  });

  it('lets the hub read every site, retained messages, $share subscriptions and $SYS, but not publish', async () => {
    const siteA = await asSite('site-a');
    const siteB = await asSite('site-b');
    await siteA.publishAsync('camhub/v1/site-a/agent', '{"state":"online"}', { qos: 1, retain: true });
    const hub = await asHub();
    const seen = record(hub);
    await hub.subscribeAsync(['camhub/v1/+/agent', '$share/hubs/camhub/v1/+/cameras/+/health', '$SYS/broker/version'], {
      qos: 1,
    });
    await siteB.publishAsync('camhub/v1/site-b/cameras/cam-09/health', '{"h":1}', { qos: 1 });
    await waitFor(
      () =>
        seen.includes('camhub/v1/site-a/agent {"state":"online"}') &&
        seen.includes('camhub/v1/site-b/cameras/cam-09/health {"h":1}') &&
        seen.some((m) => m.startsWith('$SYS/broker/version mosquitto version 2.')),
      { what: 'retained status, shared-subscription delivery and $SYS' },
    );
    const published = await hub
      .publishAsync('camhub/v1/site-a/agent', '{"state":"offline"}', { qos: 1, retain: true })
      .then(() => 'accepted')
      .catch((err: { code: number }) => err.code);
    expect(published).toBe(0x87);
    // Clear the retained message so no later subscriber sees it.
    await siteA.publishAsync('camhub/v1/site-a/agent', '', { qos: 1, retain: true });
  });

  it("lets the hub publish a site's commands, delivered to that site's agent only", async () => {
    const siteA = await asSite('site-a');
    const siteB = await asSite('site-b');
    const seenA = record(siteA);
    const seenB = record(siteB);
    await siteA.subscribeAsync('camhub/v1/site-a/commands', { qos: 1 });
    await siteB.subscribeAsync('camhub/v1/+/commands', { qos: 1 });
    const hub = await asHub();
    await expect(hub.publishAsync('camhub/v1/site-a/commands', '{"cmd":1}', { qos: 1 })).resolves.toBeDefined();
    await waitFor(() => seenA.includes('camhub/v1/site-a/commands {"cmd":1}'), { what: 'command delivery' });
    // The hub may write nothing else, and a site never hears another site's commands.
    const other = await hub
      .publishAsync('camhub/v1/site-a/cameras/cam-01/events', '{"forged":6}', { qos: 1 })
      .then(() => 'accepted')
      .catch((err: { code: number }) => err.code);
    expect(other).toBe(0x87);
    await hub.publishAsync('camhub/v1/site-b/commands', '{"cmd":2}', { qos: 1 });
    await waitFor(() => seenB.includes('camhub/v1/site-b/commands {"cmd":2}'), { what: 'site-b command' });
    expect(seenB.filter((m) => m.includes('site-a'))).toEqual([]);
  });

  it("delivers a site's retained configuration (camera passwords) to that site's agent only; no agent writes it", async () => {
    const hub = await asHub();
    await hub.publishAsync('camhub/v1/site-a/config', '{"version":7}', { qos: 1, retain: true });
    const siteA = await asSite('site-a');
    const siteB = await asSite('site-b');
    const seenA = record(siteA);
    const seenB = record(siteB);
    await siteA.subscribeAsync('camhub/v1/site-a/config', { qos: 1 });
    await siteB.subscribeAsync(['camhub/v1/site-a/config', 'camhub/v1/+/config'], { qos: 1 });
    await waitFor(() => seenA.includes('camhub/v1/site-a/config {"version":7}'), { what: 'retained config' });
    // An agent can neither rewrite its own configuration nor another site's.
    for (const topic of ['camhub/v1/site-a/config', 'camhub/v1/site-b/config', 'camhub/v1/site-a/commands']) {
      const forged = await siteA
        .publishAsync(topic, '{"version":99}', { qos: 1, retain: true })
        .then(() => 'accepted')
        .catch((err: { code: number }) => err.code);
      expect(forged, topic).toBe(0x87);
    }
    await sleep(300);
    expect(seenB).toEqual([]);
    expect(seenA.filter((m) => m.includes('99'))).toEqual([]);
    await hub.publishAsync('camhub/v1/site-a/config', '', { qos: 1, retain: true });
  });
});

describe("the hub's persistent session", () => {
  const sessionOpts = (clientId: string): IClientOptions => ({
    clientId,
    clean: false,
    properties: { sessionExpiryInterval: 3600 },
  });

  it('queues QoS 1 messages while the hub is away, and keeps them across a broker restart', async () => {
    const clientId = `camhub-hub-test-${uniqueToken()}`;
    const first = await asHub(sessionOpts(clientId));
    await first.subscribeAsync('camhub/v1/#', { qos: 1 });
    await first.endAsync();

    const site = await asSite('site-a');
    const count = 300;
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        site.publishAsync('camhub/v1/site-a/cameras/cam-01/events', `{"q":${i}}`, { qos: 1 }),
      ),
    );
    await site.endAsync();

    // A clean broker stop writes the queued messages to disk; the restarted broker must still have them.
    await broker.stop();
    await broker.start();

    const seen: string[] = [];
    await asHub(sessionOpts(clientId), seen);
    await waitFor(() => seen.filter((m) => m.includes('"q":')).length >= count, {
      what: `${count} queued messages`,
      timeoutMs: 20_000,
    });
    expect(new Set(seen.filter((m) => m.includes('"q":'))).size).toBe(count);
  });

  it('sends far more than 20 unacknowledged messages at once (max_inflight_messages), so the hub can batch', async () => {
    const raw = new RawSubscriber();
    await raw.connect(broker.port, `raw-${uniqueToken()}`, 'camhub.hub', creds.hub);
    await raw.subscribe('camhub/v1/site-a/cameras/cam-03/events');
    const site = await asSite('site-a');
    const count = 500;
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        site.publishAsync('camhub/v1/site-a/cameras/cam-03/events', `{"w":${i}}`, { qos: 1 }),
      ),
    );
    // The raw client never sends PUBACK. With mosquitto's default window of 20 it would get 20 and wait.
    await waitFor(() => raw.publishes >= count, { what: `${count} unacknowledged messages`, timeoutMs: 10_000 });
    expect(raw.publishes).toBe(count);
    raw.close();
  });
});

describe('the compose healthcheck command', () => {
  const compose = parseYaml(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
    services: { mosquitto: { healthcheck: { test: string[] } } };
  };
  const [kind, command] = compose.services.mosquitto.healthcheck.test;
  // Compose turns $$ into $; the container's broker listens on 1883, ours on a spare port.
  const script = (command ?? '').replaceAll('$$', '$').replace('-p 1883', `-p ${'${BROKER_PORT}'}`);

  const run = (username: string, password: string) =>
    execFileAsync('sh', ['-c', script], {
      env: { ...process.env, MQTT_USERNAME: username, MQTT_PASSWORD: password, BROKER_PORT: String(broker.port) },
    }).then(
      () => 0,
      (err: { code: number }) => err.code,
    );

  it('passes with the hub credentials against our broker', async () => {
    expect(kind).toBe('CMD-SHELL');
    expect(script).toContain('${BROKER_PORT}');
    expect(await run('camhub.hub', creds.hub)).toBe(0);
  });

  it('fails with a wrong password, and for a user the ACL does not let read $SYS', async () => {
    expect(await run('camhub.hub', 'not-the-password')).not.toBe(0);
    expect(await run('site-a', creds.siteA)).not.toBe(0);
  });
});

/**
 * A minimal MQTT 3.1.1 subscriber that counts PUBLISH packets and never acknowledges them, which mqtt.js
 * cannot do (it stops reading until each message is acknowledged). Only what the inflight test needs.
 */
class RawSubscriber {
  private socket: Socket | null = null;
  private buffer = Buffer.alloc(0);
  private waiting: { type: number; resolve: (body: Buffer) => void }[] = [];
  publishes = 0;

  private static str(s: string): Buffer {
    const bytes = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(2);
    len.writeUInt16BE(bytes.length);
    return Buffer.concat([len, bytes]);
  }

  private static packet(header: number, body: Buffer): Buffer {
    const length: number[] = [];
    let n = body.length;
    do {
      let byte = n % 128;
      n = Math.floor(n / 128);
      if (n > 0) byte |= 0x80;
      length.push(byte);
    } while (n > 0);
    return Buffer.concat([Buffer.from([header, ...length]), body]);
  }

  async connect(port: number, clientId: string, username: string, password: string): Promise<void> {
    this.socket = tcpConnect(port, '127.0.0.1');
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    const connack = this.next(2);
    const flags = 0x80 | 0x40 | 0x02; // user name, password, clean session
    const body = Buffer.concat([
      RawSubscriber.str('MQTT'),
      Buffer.from([4, flags, 0, 60]), // protocol level 4 (3.1.1), keepalive 60 s
      RawSubscriber.str(clientId),
      RawSubscriber.str(username),
      RawSubscriber.str(password),
    ]);
    this.socket.write(RawSubscriber.packet(0x10, body));
    const ack = await connack;
    if (ack[1] !== 0) throw new Error(`CONNACK return code ${ack[1]}`);
  }

  async subscribe(topic: string): Promise<void> {
    const suback = this.next(9);
    const body = Buffer.concat([Buffer.from([0, 1]), RawSubscriber.str(topic), Buffer.from([1])]);
    this.socket!.write(RawSubscriber.packet(0x82, body));
    const granted = (await suback)[2];
    if (granted !== 1) throw new Error(`SUBACK granted ${granted}`);
  }

  close(): void {
    this.socket?.destroy();
  }

  private next(type: number): Promise<Buffer> {
    return new Promise((resolve) => this.waiting.push({ type, resolve }));
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      let length = 0;
      let multiplier = 1;
      let offset = 1;
      let complete = false;
      while (offset < this.buffer.length && offset <= 4) {
        const byte = this.buffer[offset++]!;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete || this.buffer.length < offset + length) return;
      const type = this.buffer[0]! >> 4;
      const body = this.buffer.subarray(offset, offset + length);
      this.buffer = this.buffer.subarray(offset + length);
      if (type === 3) this.publishes++;
      const waiter = this.waiting.findIndex((w) => w.type === type);
      if (waiter >= 0) this.waiting.splice(waiter, 1)[0]!.resolve(body);
    }
  }
}
