import { randomBytes, randomUUID } from 'node:crypto';
import type { AgentCommand, LiveUnavailableCode, VideoProfile } from '@camhub/shared';
import { Fmp4Splitter } from './fmp4.js';

/**
 * The live relay: one upstream per camera and profile, whatever the number of viewers. The first viewer makes the hub
 * ask the agent (MQTT `live.start`) to open an upstream; every viewer gets the init segment and the fragments since
 * the latest keyframe, then everything live; the upstream ends `idleStopMs` after the last viewer left.
 *
 * It lives in the hub process that serves the viewers and receives the upstream: with several hub processes, the
 * agent's hub URL and the viewers' must reach the same process (see docs/console.md).
 */

/** Why a viewer cannot watch, as stable codes the console translates. */
export type LiveUnavailableReason = LiveUnavailableCode;

export interface Viewer {
  /** The init segment is there: start the response with it (codec for the browser's SourceBuffer). */
  start(codec: string | null, init: Buffer): void;
  /** One fragment, in order. `keyframe`: a viewer that fell behind may resume here. */
  fragment(data: Buffer, keyframe: boolean): void;
  /** The stream cannot start or has ended for good. */
  end(reason: LiveUnavailableReason): void;
}

/** The agent's side of an upstream, as the relay sees it (a WebSocket in production). */
export interface UpstreamSocket {
  close(code: number, reason: string): void;
}

export interface UpstreamSink {
  data(chunk: Buffer): void;
  /** The agent closed (code, reason as it sent them). */
  closed(reason: string): void;
}

export interface RelayOptions {
  send(command: AgentCommand): Promise<void>;
  idleStopMs: number;
  /** No upstream this long after the first viewer: the viewers get `agent_no_answer`. */
  startTimeoutMs: number;
  /** `live.start` is repeated this often until the upstream is there (a lost command, a restarting agent). */
  repeatMs: number;
  /** Bound on what one camera keeps for late viewers (one GOP): a camera with huge GOPs must not eat memory. */
  maxGopBytes: number;
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

interface Channel {
  key: string;
  site: string;
  camera: string;
  profile: VideoProfile;
  stream: string;
  viewers: Set<Viewer>;
  started: Set<Viewer>;
  socket: UpstreamSocket | null;
  splitter: Fmp4Splitter;
  init: { data: Buffer; codec: string | null } | null;
  gop: Buffer[];
  gopBytes: number;
  timers: { idle?: NodeJS.Timeout; repeat?: NodeJS.Timeout; start?: NodeJS.Timeout };
  /** Bytes received from the agent and when the last fragment arrived (stats). */
  bytes: number;
}

/** Agents close with 4xxx codes and one of these reasons; anything else is `upstream_ended`. */
const AGENT_REASONS = new Set<LiveUnavailableReason>(['camera_unreachable', 'no_stream_address']);

export function newStreamId(): string {
  return randomBytes(18).toString('base64url');
}

export function createRelay(o: RelayOptions) {
  const channels = new Map<string, Channel>();
  const byStream = new Map<string, Channel>();
  let closing = false;

  const command = (c: Channel, kind: 'live.start' | 'live.stop') => {
    const base = { v: 1 as const, id: randomUUID(), site: c.site, at: new Date().toISOString(), camera: c.camera };
    const cmd: AgentCommand =
      kind === 'live.start'
        ? { ...base, kind, profile: c.profile, stream: c.stream }
        : { ...base, kind, stream: c.stream };
    o.send(cmd).catch((err: Error) => o.log.warn({ err: err.message, kind, stream: c.stream }, 'command not sent'));
  };

  function drop(c: Channel, reason: LiveUnavailableReason | null) {
    if (channels.get(c.key) !== c) return;
    channels.delete(c.key);
    byStream.delete(c.stream);
    clearTimeout(c.timers.idle);
    clearInterval(c.timers.repeat);
    clearTimeout(c.timers.start);
    if (c.socket) c.socket.close(1000, reason ?? 'no viewers');
    else command(c, 'live.stop');
    for (const v of c.viewers) v.end(reason ?? 'upstream_ended');
    c.viewers.clear();
    o.log.info({ site: c.site, camera: c.camera, profile: c.profile, reason, bytes: c.bytes }, 'live upstream ended');
  }

  function onPart(c: Channel, chunk: Buffer) {
    c.bytes += chunk.length;
    for (const part of c.splitter.push(chunk)) {
      if (part.kind === 'init') {
        c.init = { data: part.data, codec: part.codec };
        for (const v of c.viewers) startViewer(c, v);
        continue;
      }
      if (part.keyframe || c.gopBytes + part.data.length > o.maxGopBytes) {
        c.gop = [];
        c.gopBytes = 0;
      }
      // A late viewer can only start at a keyframe: keep nothing until the first one.
      if (part.keyframe || c.gop.length > 0) {
        c.gop.push(part.data);
        c.gopBytes += part.data.length;
      }
      for (const v of c.started) v.fragment(part.data, part.keyframe);
    }
  }

  function startViewer(c: Channel, v: Viewer) {
    if (!c.init || c.started.has(v)) return;
    c.started.add(v);
    v.start(c.init.codec, c.init.data);
    c.gop.forEach((data, i) => v.fragment(data, i === 0));
  }

  return {
    /** A viewer wants `site/camera` in `profile`; returns its leave function. */
    watch(site: string, camera: string, profile: VideoProfile, viewer: Viewer): () => void {
      if (closing) {
        viewer.end('hub_closing');
        return () => undefined;
      }
      const key = `${site}/${camera}/${profile}`;
      let c = channels.get(key);
      if (!c) {
        const created: Channel = {
          key,
          site,
          camera,
          profile,
          stream: newStreamId(),
          viewers: new Set(),
          started: new Set(),
          socket: null,
          splitter: new Fmp4Splitter(),
          init: null,
          gop: [],
          gopBytes: 0,
          timers: {},
          bytes: 0,
        };
        c = created;
        channels.set(key, c);
        byStream.set(c.stream, c);
        command(c, 'live.start');
        c.timers.repeat = setInterval(() => command(created, 'live.start'), o.repeatMs);
        c.timers.start = setTimeout(() => {
          if (!created.socket) drop(created, 'agent_no_answer');
        }, o.startTimeoutMs);
      }
      clearTimeout(c.timers.idle);
      c.viewers.add(viewer);
      startViewer(c, viewer);
      const channel = c;
      return () => {
        if (!channel.viewers.delete(viewer)) return;
        channel.started.delete(viewer);
        if (channel.viewers.size === 0 && channels.get(key) === channel) {
          clearTimeout(channel.timers.idle);
          channel.timers.idle = setTimeout(() => drop(channel, null), o.idleStopMs);
        }
      };
    },

    /** The agent of `site` opened the upstream `stream`; null when the hub did not ask for it (the socket is refused). */
    acceptUpstream(stream: string, site: string, socket: UpstreamSocket): UpstreamSink | null {
      const c = byStream.get(stream);
      if (!c || c.site !== site || c.socket) return null;
      c.socket = socket;
      clearInterval(c.timers.repeat);
      clearTimeout(c.timers.start);
      return {
        data(chunk) {
          if (channels.get(c.key) !== c) return;
          try {
            onPart(c, chunk);
          } catch (err) {
            o.log.warn({ err: (err as Error).message, stream }, 'upstream is not fragmented MP4');
            drop(c, 'upstream_invalid');
          }
        },
        closed(reason) {
          if (channels.get(c.key) !== c) return;
          c.socket = null;
          drop(
            c,
            AGENT_REASONS.has(reason as LiveUnavailableReason) ? (reason as LiveUnavailableReason) : 'upstream_ended',
          );
        },
      };
    },

    /** What runs now (metrics, tests, the bench). */
    stats() {
      let viewers = 0;
      let upstreams = 0;
      for (const c of channels.values()) {
        viewers += c.viewers.size;
        if (c.socket) upstreams += 1;
      }
      return { channels: channels.size, upstreams, viewers };
    },

    close() {
      closing = true;
      for (const c of [...channels.values()]) drop(c, 'hub_closing');
    },
  };
}
export type Relay = ReturnType<typeof createRelay>;
