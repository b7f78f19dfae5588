/**
 * Helpers for the agent's integration tests (test/integration/agent*.test.ts): a real MQTT subscriber, the agent as
 * a child process, and a tiny HTTP receiver standing in for the hub's media endpoint (the broker: mosquitto.ts).
 * Nothing here is a fake: they drive and observe real processes. Test support only: it never ships with the agent.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { REPO_ROOT } from './processes.js';

export { freePort, REPO_ROOT } from './processes.js';
export { MosquittoProcess } from './mosquitto.js';

export interface Received {
  topic: string;
  payload: Record<string, unknown>;
  receivedAt: number;
}

/** Subscribes to `${root}/#` and records every message (re-subscribing after a broker restart). */
export class Collector {
  readonly messages: Received[] = [];
  readonly client: MqttClient;

  private constructor(url: string, root: string) {
    this.client = mqtt.connect(url, { reconnectPeriod: 200, clean: true, protocolVersion: 5 });
    this.client.on('message', (topic, payload) => {
      this.messages.push({
        topic,
        payload: JSON.parse(payload.toString()) as Record<string, unknown>,
        receivedAt: Date.now(),
      });
    });
    this.client.on('connect', () => this.client.subscribe(`${root}/#`, { qos: 1 }));
    this.client.on('error', () => undefined);
  }

  static async connect(url: string, root: string): Promise<Collector> {
    const c = new Collector(url, root);
    await new Promise<void>((resolve) => c.client.once('connect', () => resolve()));
    await c.client.subscribeAsync(`${root}/#`, { qos: 1 });
    return c;
  }

  /** Resolves once subscribed again after a reconnect. */
  async resubscribed(root: string, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!this.client.connected) {
      if (Date.now() > end) throw new Error('collector did not reconnect');
      await sleep(50);
    }
    await this.client.subscribeAsync(`${root}/#`, { qos: 1 });
  }

  events(camera?: string): Array<Record<string, unknown>> {
    return this.messages
      .filter((m) => m.topic.endsWith('/events') && (!camera || m.payload.camera === camera))
      .map((m) => m.payload);
  }

  async waitFor<T>(find: () => T | undefined | false, timeoutMs = 10_000, what = 'message'): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found) return found;
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(20);
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The agent exactly as operators run it: `tsx edge-agent/src/main.ts --config <file>`. */
export class AgentProcess {
  readonly proc: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  /** `launch`: another way to start it, e.g. a release's `edge-agent/dist/main.js` from the release's folder. */
  constructor(
    configFile: string,
    env: NodeJS.ProcessEnv = {},
    launch: { args: string[]; cwd: string } = { args: ['--import', 'tsx', 'edge-agent/src/main.ts'], cwd: REPO_ROOT },
  ) {
    this.proc = spawn(process.execPath, [...launch.args, '--config', configFile], {
      cwd: launch.cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
  }

  /** Parsed JSON log lines. */
  logs(): Array<Record<string, unknown>> {
    return this.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return []; // a line cut by SIGKILL
        }
      });
  }

  storedEvents(): Array<{ id: string; seq: number; camera: string }> {
    return this.logs()
      .filter((l) => l.msg === 'event stored')
      .map((l) => ({ id: l.id as string, seq: l.seq as number, camera: l.camera as string }));
  }

  async waitForLog(pred: (l: Record<string, unknown>) => boolean, timeoutMs = 15_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!this.logs().some(pred)) {
      if (Date.now() > end) throw new Error(`agent log line not seen; stderr: ${this.stderr.slice(-2000)}`);
      await sleep(50);
    }
  }

  kill(signal: NodeJS.Signals): Promise<number | null> {
    if (this.proc.exitCode === null) this.proc.kill(signal);
    return this.exited;
  }
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(dir, { recursive: true });
  return dir;
}

export interface MediaUpload {
  /** `media` (snapshots) or `clips`. */
  kind: string;
  ref: string;
  authorization: string | undefined;
  contentType: string | undefined;
  sha256: string;
  bytes: number;
  /** The uploaded bytes (clips only: tests read them back with ffprobe). */
  body?: Buffer;
}

/**
 * Stands in for the hub's `PUT /api/v1/media/{ref}` and `PUT /api/v1/clips/{ref}`: records uploads, answers 201.
 * `port`: listen there (to come back on the same address after a `close`, as a hub after an outage).
 */
export async function startMediaReceiver(
  port = 0,
  uploads: MediaUpload[] = [],
): Promise<{ url: string; port: number; uploads: MediaUpload[]; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const m = /^\/api\/v1\/(media|clips)\/(sha256:[0-9a-f]{64})$/.exec(req.url ?? '');
      if (req.method !== 'PUT' || !m) {
        res.writeHead(404).end();
        return;
      }
      const body = Buffer.concat(chunks);
      uploads.push({
        kind: m[1]!,
        ref: m[2]!,
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        sha256: `sha256:${createHash('sha256').update(body).digest('hex')}`,
        bytes: body.length,
        ...(m[1] === 'clips' ? { body } : {}),
      });
      res.writeHead(201).end();
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const bound = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    uploads,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        // An uplink cut is abrupt: connections in progress end now, not when their client is done.
        server.closeAllConnections();
      }),
  };
}

export interface ProcessEntry {
  pid: number;
  comm: string;
  /** R, S, D, Z (a zombie: killed, waiting for its parent to reap it), … */
  state: string;
  ppid: number;
  pgrp: number;
}

/** Every process on the machine, from /proc/<pid>/stat (comm may hold spaces and parentheses: match the last one). */
export function processTable(): ProcessEntry[] {
  const found: ProcessEntry[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited between readdir and read
    }
    const m = /^(\d+) \((.*)\) (\S) (\d+) (\d+)/s.exec(stat);
    if (m) found.push({ pid: Number(m[1]), comm: m[2]!, state: m[3]!, ppid: Number(m[4]), pgrp: Number(m[5]) });
  }
  return found;
}
