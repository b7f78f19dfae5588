import { type AgentCommand, commandTopic, decodeCommand, type VideoProfile } from '@camhub/shared';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { errorMessage } from '../errors.js';
import { streamFragmentedMp4, type FragmentedMp4Stream } from '../media/ffmpeg.js';

export interface LiveCamera {
  streamUrl(profile: VideoProfile): string | null;
}

export interface LiveStreamerOptions {
  site: string;
  topicRoot: string;
  hub: { url: string; token: string } | undefined;
  client: MqttClient;
  cameras: ReadonlyMap<string, LiveCamera>;
  logger: Logger;
  /** Live streams at once: each is one ffmpeg and one camera connection. */
  maxStreams: number;
  fragmentMs?: number;
}

interface Running {
  stream: string;
  camera: string;
  profile: VideoProfile;
  ws: WebSocket;
  ffmpeg: FragmentedMp4Stream | null;
  bytes: number;
}

/** Above this many bytes waiting in the socket, ffmpeg's output is paused (the uplink is slower than the camera). */
const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = 512 * 1024;

/**
 * Live view at the agent: on the hub's `live.start` command, opens a WebSocket to the hub (outbound: the agent is
 * behind NAT) with the site token and sends it what `ffmpeg -c copy` makes of the camera's RTSP stream, as fragmented
 * MP4. The stream ends when the hub closes the socket or sends `live.stop`; ffmpeg dies with it. Commands of kinds
 * this agent does not know are ignored.
 */
export class LiveStreamer {
  private readonly running = new Map<string, Running>();
  private readonly topic: string;
  private stopped = false;

  constructor(private readonly o: LiveStreamerOptions) {
    this.topic = commandTopic(o.site, o.topicRoot);
  }

  start(): void {
    const subscribe = () =>
      this.o.client.subscribe(this.topic, { qos: 1 }, (err) => {
        if (err) this.o.logger.warn({ err: err.message }, 'command topic subscription failed');
      });
    // Clean sessions: subscribe again on every connection.
    this.o.client.on('connect', subscribe);
    if (this.o.client.connected) subscribe();
    this.o.client.on('message', (topic, payload) => {
      if (topic !== this.topic) return;
      const decoded = decodeCommand(payload, this.o.site);
      if (decoded.ok === 'ignored') this.o.logger.debug({ kind: decoded.kind }, 'command of an unknown kind ignored');
      else if (!decoded.ok) this.o.logger.warn({ detail: decoded.detail }, 'malformed command dropped');
      else this.handle(decoded.command);
    });
  }

  /** ffmpeg upstreams running now. */
  get activeStreams(): number {
    let n = 0;
    for (const r of this.running.values()) if (r.ffmpeg) n += 1;
    return n;
  }

  /** The running upstreams' cameras and profiles (status, tests). */
  streams(): { camera: string; profile: VideoProfile }[] {
    return [...this.running.values()].filter((r) => r.ffmpeg).map((r) => ({ camera: r.camera, profile: r.profile }));
  }

  private handle(command: AgentCommand): void {
    if (this.stopped) return;
    if (command.kind === 'live.stop') {
      this.running.get(command.stream)?.ws.close(1000, 'stopped');
      return;
    }
    // live.start is repeated until the upstream is there: idempotent per stream.
    if (this.running.has(command.stream)) return;
    const camera = this.o.cameras.get(command.camera);
    if (!camera) {
      this.o.logger.warn({ camera: command.camera }, 'live.start for a camera this agent does not have');
      return;
    }
    if (!this.o.hub) {
      this.o.logger.warn('live.start, but no hub URL is configured (hub.url)');
      return;
    }
    if (this.running.size >= this.o.maxStreams) {
      this.o.logger.warn({ max: this.o.maxStreams, camera: command.camera }, 'live.start refused: too many streams');
      return;
    }
    this.open(command, camera, this.o.hub);
  }

  private open(
    command: Extract<AgentCommand, { kind: 'live.start' }>,
    camera: LiveCamera,
    hub: { url: string; token: string },
  ) {
    const base = hub.url.endsWith('/') ? hub.url : `${hub.url}/`;
    const url = new URL(`api/v1/video/upstream/${command.stream}`, base);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${hub.token}` }, perMessageDeflate: false });
    const r: Running = {
      stream: command.stream,
      camera: command.camera,
      profile: command.profile,
      ws,
      ffmpeg: null,
      bytes: 0,
    };
    this.running.set(command.stream, r);
    const log = this.o.logger.child({ camera: command.camera, profile: command.profile, stream: command.stream });
    ws.on('error', (err) => log.warn({ err: errorMessage(err) }, 'live upstream socket error'));
    ws.on('close', (code, reason) => {
      r.ffmpeg?.stop();
      r.ffmpeg = null;
      this.running.delete(command.stream);
      log.info({ code, reason: reason.toString('utf8'), bytes: r.bytes }, 'live stream ended');
    });
    ws.on('open', () => {
      const rtsp = camera.streamUrl(command.profile);
      if (!rtsp) return ws.close(4000, 'no_stream_address');
      const ffmpeg = streamFragmentedMp4(rtsp, { fragmentMs: this.o.fragmentMs ?? 500, ioTimeoutMs: 10_000 });
      r.ffmpeg = ffmpeg;
      log.info('live stream started');
      const output = ffmpeg.output;
      let paused = false;
      output.on('data', (chunk: Buffer) => {
        if (ws.readyState !== WebSocket.OPEN) return;
        r.bytes += chunk.length;
        ws.send(chunk, { binary: true });
        if (!paused && ws.bufferedAmount > HIGH_WATER) {
          paused = true;
          output.pause();
          const resume = setInterval(() => {
            if (ws.readyState !== WebSocket.OPEN || ws.bufferedAmount < LOW_WATER) {
              clearInterval(resume);
              paused = false;
              output.resume();
            }
          }, 50);
        }
      });
      void ffmpeg.exited.then((problem) => {
        if (r.ffmpeg !== ffmpeg) return;
        r.ffmpeg = null;
        if (problem) log.warn({ problem }, 'live ffmpeg ended');
        // No byte at all: the camera's stream could not be opened; otherwise it broke off.
        if (ws.readyState === WebSocket.OPEN) ws.close(4000, r.bytes === 0 ? 'camera_unreachable' : 'upstream_ended');
      });
    });
  }

  /** Ends every stream (shutdown). */
  stop(): void {
    this.stopped = true;
    for (const r of this.running.values()) {
      r.ffmpeg?.stop();
      r.ws.terminate();
    }
    this.running.clear();
  }
}
