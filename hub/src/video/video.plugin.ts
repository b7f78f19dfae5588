import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type AgentCommand, commandErrors, commandTopic, COMMAND_QOS, STREAM_ID_PATTERN } from '@camhub/shared';
import fp from 'fastify-plugin';
import { WebSocketServer } from 'ws';
import { lazyMqttPublisher } from '../plugins/mqtt-publisher.js';
import { createRelay, type Relay } from './relay.js';

declare module 'fastify' {
  interface FastifyInstance {
    video: { relay: Relay };
  }
}

export const UPSTREAM_PATH = '/api/v1/video/upstream/';
const STREAM_ID = new RegExp(STREAM_ID_PATTERN);
/** One fragment is far below this; a bigger message is not a camera's stream. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * Live video: the relay, the MQTT publisher of commands (connected on first use: most hub processes never send one),
 * and the WebSocket endpoint where agents deliver upstreams. The upgrade is handled here, before Fastify's router, so
 * the GET route of the same path (video.routes.ts) only documents it and declares its access.
 */
export default fp(
  async (app) => {
    const cfg = app.config;
    const publisher = lazyMqttPublisher(cfg, { role: 'video', label: 'video command', log: app.log });
    const send = async (command: AgentCommand) => {
      const problem = commandErrors(command);
      if (problem) throw new Error(`command does not match the contract: ${problem}`);
      await publisher.client().publishAsync(commandTopic(command.site, cfg.MQTT_TOPIC_ROOT), JSON.stringify(command), {
        qos: COMMAND_QOS.qos,
        retain: COMMAND_QOS.retain,
      });
    };
    const relay = createRelay({
      send,
      idleStopMs: cfg.VIDEO_IDLE_STOP_SEC * 1000,
      startTimeoutMs: cfg.VIDEO_START_TIMEOUT_SEC * 1000,
      repeatMs: 3000,
      maxGopBytes: 8 * 1024 * 1024,
      log: app.log,
    });
    app.decorate('video', { relay });

    const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = (req.url ?? '').split('?')[0]!;
      if (!path.startsWith(UPSTREAM_PATH)) return refuse(socket, 404, 'Not Found');
      const stream = path.slice(UPSTREAM_PATH.length);
      const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
      void (async () => {
        const site = STREAM_ID.test(stream) ? await app.container.services.auth.authenticateAgent(bearer) : null;
        if (!site) return refuse(socket, 401, 'Unauthorized');
        wss.handleUpgrade(req, socket, head, (ws) => {
          const sink = relay.acceptUpstream(stream, site, { close: (code, reason) => ws.close(code, reason) });
          // A stream the hub did not ask for (or has given up): the agent stops its ffmpeg on this close.
          if (!sink) return ws.close(4404, 'unknown_stream');
          ws.on('message', (data: Buffer, isBinary) => {
            if (isBinary) sink.data(data);
          });
          ws.on('close', (_code, reason) => sink.closed(reason.toString('utf8')));
          ws.on('error', (err) => app.log.warn({ err: err.message, stream }, 'upstream socket error'));
        });
      })().catch((err: Error) => {
        app.log.error({ err: err.message }, 'upstream upgrade failed');
        refuse(socket, 500, 'Internal Server Error');
      });
    };
    app.server.on('upgrade', onUpgrade);

    app.addHook('preClose', async () => {
      app.server.off('upgrade', onUpgrade);
      relay.close();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    });
    app.addHook('onClose', async () => {
      await publisher.end();
    });
  },
  { name: 'video', dependencies: ['config', 'auth'] },
);
