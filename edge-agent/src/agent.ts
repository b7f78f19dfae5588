import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentStatus, CameraStatus, DiscoveredCamera, HealthSample } from '@camhub/shared';
import type { Logger } from 'pino';
import { CameraSupervisor } from './camera/camera-supervisor.js';
import { NotificationServer } from './onvif/base-notification.js';
import type { AgentConfig } from './config.js';
import { errorMessage, OutboxRejectedError } from './errors.js';
import { HealthMonitor } from './health/monitor.js';
import { killAllFfmpeg, useFfmpeg } from './media/ffmpeg.js';
import { MediaQueue } from './media/media-queue.js';
import { Forwarder } from './mqtt/forwarder.js';
import { MqttLink } from './mqtt/link.js';
import { probe, unadopted } from './onvif/discovery.js';
import { Outbox } from './outbox/outbox.js';
import { SeqStore } from './seq-store.js';
import { LiveStreamer } from './video/live-streamer.js';
import { AGENT_VERSION } from './version.js';

const DISCOVERY_INTERVAL_MS = 5 * 60_000;

/** Composition root: builds every part from the config, starts them, and stops them in the right order. */
export class Agent {
  readonly outbox: Outbox;
  readonly seq: SeqStore;
  readonly media: MediaQueue | null;
  readonly link: MqttLink;
  readonly forwarder: Forwarder;
  readonly cameras: CameraSupervisor[];
  private readonly notifyServer: NotificationServer | null;
  readonly health: HealthMonitor;
  readonly live: LiveStreamer;
  private readonly timers: NodeJS.Timeout[] = [];
  private unadopted: DiscoveredCamera[] = [];
  private readonly lastCameraStatus = new Map<string, CameraStatus>();
  private stopping = false;

  constructor(
    private readonly config: AgentConfig,
    private readonly logger: Logger,
  ) {
    useFfmpeg(config.media.ffmpegPath);
    mkdirSync(config.dataDir, { recursive: true });
    this.outbox = Outbox.open(join(config.dataDir, 'outbox'), {
      maxBytes: config.outbox.maxBytes,
      fsync: config.outbox.fsync,
      logger: logger.child({ part: 'outbox' }),
    });
    this.seq = new SeqStore(join(config.dataDir, 'seq'));
    this.media = config.hub
      ? new MediaQueue({
          dir: join(config.dataDir, 'media'),
          maxBytes: config.media.maxBytes,
          hub: config.hub,
          logger: logger.child({ part: 'media' }),
        })
      : null;
    this.link = new MqttLink(config, this.status('offline'), logger.child({ part: 'mqtt' }));
    this.forwarder = new Forwarder(
      this.outbox,
      this.link,
      config.mqtt.maxInFlight,
      logger.child({ part: 'forwarder' }),
    );
    const notifyConfig = config.onvif.notify;
    this.notifyServer = notifyConfig ? new NotificationServer(logger.child({ part: 'notify' })) : null;
    const notify = notifyConfig && this.notifyServer ? { server: this.notifyServer, url: notifyConfig.url } : null;
    this.cameras = config.cameras.map(
      (camera) =>
        new CameraSupervisor({ config, camera, outbox: this.outbox, seq: this.seq, media: this.media, logger, notify }),
    );
    this.health = new HealthMonitor({
      config,
      targets: this.cameras,
      onSample: (sample) => this.onHealthSample(sample),
      logger: logger.child({ part: 'health' }),
    });
    this.live = new LiveStreamer({
      site: config.site,
      topicRoot: config.mqtt.topicRoot,
      hub: config.hub,
      client: this.link.client,
      cameras: new Map(this.cameras.map((c) => [c.id, c])),
      logger: logger.child({ part: 'live' }),
      maxStreams: config.live.maxStreams,
    });
  }

  status(state: AgentStatus['state']): AgentStatus {
    const o = this.outbox?.stats();
    const status: AgentStatus = {
      v: 1,
      site: this.config.site,
      agent: this.config.agentId,
      state,
      version: AGENT_VERSION,
      at: new Date().toISOString(),
      cameras: this.config.cameras.length,
    };
    if (this.unadopted?.length) status.unadopted = this.unadopted.slice(0, 64);
    // Optional camhub addition: lets the hub and people see a backlog or a full outbox.
    if (o && state === 'online') {
      Object.assign(status, {
        outbox: {
          bytes: o.bytes,
          maxBytes: o.maxBytes,
          pendingEvents: o.pendingEvents,
          droppedHealth: o.droppedHealth,
          pressure: o.pressure,
        },
      });
    }
    return status;
  }

  private publishStatus(): void {
    if (!this.link.connected || this.stopping) return;
    this.link
      .publish('agent', this.status('online'))
      .catch((err: unknown) => this.logger.warn({ err: errorMessage(err) }, 'agent status not published'));
  }

  start(): void {
    this.link.client.on('connect', () => {
      this.publishStatus();
      for (const s of this.lastCameraStatus.values()) void this.link.publish('status', s).catch(() => undefined);
    });
    this.media?.start();
    const notify = this.config.onvif.notify;
    if (notify && this.notifyServer) {
      this.notifyServer.listen(notify.listenHost, notify.port).then(
        () => this.logger.info({ port: notify.port, url: notify.url }, 'base-notification endpoint listening'),
        (err: unknown) =>
          this.logger.error(
            { err: errorMessage(err), field: 'onvif.notify.port' },
            'base-notification endpoint cannot listen: cameras without PullPoint will send no events',
          ),
      );
    }
    this.live.start();
    for (const camera of this.cameras) camera.start();
    this.health.start();
    this.timers.push(setInterval(() => this.publishStatus(), 60_000));
    if (this.config.discovery) {
      void this.discover();
      this.timers.push(setInterval(() => void this.discover(), DISCOVERY_INTERVAL_MS));
    }
    for (const t of this.timers) t.unref();
    this.logger.info({ site: this.config.site, cameras: this.cameras.length, version: AGENT_VERSION }, 'agent started');
  }

  /** Every sample is stored and sent; the retained CameraStatus only when status or problem codes change. */
  private onHealthSample(sample: HealthSample): void {
    this.outbox.append('health', sample).catch((err: unknown) => {
      if (err instanceof OutboxRejectedError) this.logger.debug({ camera: sample.camera }, err.message);
      else this.logger.warn({ err: errorMessage(err) }, 'health sample not stored');
    });
    const previous = this.lastCameraStatus.get(sample.camera);
    const codes = (s: { problems: Array<{ code: string }> }) => s.problems.map((p) => p.code).join(',');
    if (previous && previous.status === sample.status && codes(previous) === codes(sample)) return;
    const status: CameraStatus = {
      v: 1,
      site: sample.site,
      camera: sample.camera,
      status: sample.status,
      since: sample.at,
      problems: sample.problems,
    };
    // Operators know cameras by name ("Front gate"), not by id: the hub keeps the name it is given here.
    const name = this.config.cameras.find((c) => c.id === sample.camera)?.name;
    if (name) status.name = name;
    this.lastCameraStatus.set(sample.camera, status);
    this.logger.info({ camera: sample.camera, status: sample.status, problems: codes(sample) }, 'camera status');
    if (this.link.connected) {
      this.link
        .publish('status', status)
        .catch((err: unknown) => this.logger.debug({ err: errorMessage(err) }, 'camera status not published'));
    }
  }

  private async discover(): Promise<void> {
    const found = await probe(3000, this.logger);
    const next = unadopted(found, this.config.cameras);
    for (const cam of next) this.logger.info({ endpoint: cam.endpoint, xaddrs: cam.xaddrs }, 'unadopted camera found');
    if (JSON.stringify(next) !== JSON.stringify(this.unadopted)) {
      this.unadopted = next;
      this.publishStatus();
    }
  }

  /** Unsubscribe, flush what can be flushed, say offline, close files. Events still unsent stay in the outbox. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    await this.health.stop();
    this.live.stop();
    await Promise.all(this.cameras.map((c) => c.stop()));
    await this.notifyServer?.close();
    // Snapshot grabs may still run; no ffmpeg outlives the agent.
    await killAllFfmpeg();
    const flushed = await this.forwarder.flush(5000);
    if (!flushed) this.logger.warn(this.outbox.stats(), 'shutdown: publishes still in flight; they stay in the outbox');
    this.forwarder.stop();
    if (this.link.connected) {
      await Promise.race([
        this.link.publish('agent', this.status('offline')),
        new Promise((r) => setTimeout(r, 2000)),
      ]).catch((err: unknown) => this.logger.warn({ err: errorMessage(err) }, 'offline status not published'));
    }
    await this.link.close();
    await this.media?.stop();
    await this.outbox.close();
    this.seq.close();
    this.logger.info('agent stopped');
  }
}
