import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AgentConfigReport,
  type AgentStatus,
  type CameraStatus,
  decodeSiteConfig,
  type DiscoveredCamera,
  type HealthSample,
  type SiteConfig,
  siteConfigTopic,
} from '@camhub/shared';
import type { Logger } from 'pino';
import { CameraSupervisor } from './camera/camera-supervisor.js';
import { NotificationServer } from './onvif/base-notification.js';
import type { AgentConfig, CameraConfig } from './config.js';
import { errorMessage, OutboxRejectedError } from './errors.js';
import { HealthMonitor } from './health/monitor.js';
import { cameraReport, type EffectiveCameras, effectiveCameras, sameConnection } from './hub-config/effective.js';
import { HubConfigStore } from './hub-config/store.js';
import { killAllFfmpeg, useFfmpeg, warmFfmpeg } from './media/ffmpeg.js';
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
  /** The running cameras by id: the YAML's, overridden by the hub's configuration (hub-config/effective.ts). */
  private readonly supervisors = new Map<string, CameraSupervisor>();
  private readonly notifyServer: NotificationServer | null;
  readonly health: HealthMonitor;
  readonly live: LiveStreamer;
  private readonly timers: NodeJS.Timeout[] = [];
  private unadopted: DiscoveredCamera[] = [];
  /** What the last WS-Discovery probe found, adopted or not. */
  private found: DiscoveredCamera[] = [];
  private readonly lastCameraStatus = new Map<string, CameraStatus>();
  private stopping = false;
  private readonly hubConfigStore: HubConfigStore;
  /** The hub configuration applied (the last good one), null while the agent runs its YAML only. */
  private hubConfig: SiteConfig | null = null;
  private effective: EffectiveCameras;
  private refused: AgentConfigReport['refused'];
  private readonly failed = new Map<string, string>();
  /** Configurations are applied one after the other: each waits for the cameras the previous one stopped. */
  private applying: Promise<void> = Promise.resolve();
  private readonly notify: { server: NotificationServer; url: string } | null;

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
    this.notify = notifyConfig && this.notifyServer ? { server: this.notifyServer, url: notifyConfig.url } : null;
    this.hubConfigStore = new HubConfigStore(config.dataDir, config.site);
    try {
      this.hubConfig = this.hubConfigStore.load();
      if (this.hubConfig) logger.info({ version: this.hubConfig.version }, 'hub configuration loaded from disk');
    } catch (err) {
      // The YAML still runs; the hub's retained configuration arrives again once the broker answers.
      logger.error({ err: errorMessage(err) }, 'stored hub configuration unreadable: running the local one');
    }
    this.effective = effectiveCameras(config.cameras, this.hubConfig);
    for (const { camera } of this.effective.run) this.createSupervisor(camera);
    this.health = new HealthMonitor({
      config,
      targets: [...this.supervisors.values()],
      onSample: (sample) => this.onHealthSample(sample),
      logger: logger.child({ part: 'health' }),
    });
    this.live = new LiveStreamer({
      site: config.site,
      topicRoot: config.mqtt.topicRoot,
      hub: config.hub,
      client: this.link.client,
      // The same map the configuration changes: live view follows adopted and removed cameras.
      cameras: this.supervisors,
      logger: logger.child({ part: 'live' }),
      maxStreams: config.live.maxStreams,
    });
  }

  /** The running cameras' supervisors. */
  get cameras(): CameraSupervisor[] {
    return [...this.supervisors.values()];
  }

  /** The hub configuration version running now (null: the YAML only). */
  get configVersion(): number | null {
    return this.hubConfig?.version ?? null;
  }

  private createSupervisor(camera: CameraConfig): CameraSupervisor | null {
    try {
      const supervisor = new CameraSupervisor({
        config: this.config,
        camera,
        outbox: this.outbox,
        seq: this.seq,
        media: this.media,
        logger: this.logger,
        notify: this.notify,
      });
      this.supervisors.set(camera.id, supervisor);
      this.failed.delete(camera.id);
      return supervisor;
    } catch (err) {
      this.failed.set(camera.id, 'start_failed');
      this.logger.error({ camera: camera.id, err: errorMessage(err) }, 'camera could not be started');
      return null;
    }
  }

  private configReport(): AgentConfigReport {
    const report: AgentConfigReport = {
      version: this.hubConfig?.version ?? null,
      cameras: cameraReport(this.effective, this.failed),
    };
    if (this.refused) report.refused = this.refused;
    return report;
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
      // Before the cameras are built (the last will), the YAML's count.
      cameras: this.effective ? this.supervisors.size : this.config.cameras.length,
    };
    // Absent while nothing is built yet (the last will is made before the cameras).
    if (this.effective) status.config = this.configReport();
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
      // Snapshots and clips that waited out the outage go now, not after the backoff the outage grew.
      this.media?.retryNow();
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
    // Also says at once, in the log, when the configured ffmpeg cannot run (stream probes, snapshots, live, clips).
    warmFfmpeg().catch((err: unknown) =>
      this.logger.warn({ err: errorMessage(err), field: 'media.ffmpegPath' }, 'ffmpeg cannot run'),
    );
    this.live.start();
    this.subscribeConfig();
    for (const camera of this.supervisors.values()) camera.start();
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
    const name = this.effective.run.find((e) => e.camera.id === sample.camera)?.camera.name;
    if (name) status.name = name;
    this.lastCameraStatus.set(sample.camera, status);
    this.logger.info({ camera: sample.camera, status: sample.status, problems: codes(sample) }, 'camera status');
    if (this.link.connected) {
      this.link
        .publish('status', status)
        .catch((err: unknown) => this.logger.debug({ err: errorMessage(err) }, 'camera status not published'));
    }
  }

  /** The hub's retained configuration for this site, read on every (clean) connection. */
  private subscribeConfig(): void {
    const topic = siteConfigTopic(this.config.site, this.config.mqtt.topicRoot);
    const client = this.link.client;
    const subscribe = () =>
      client.subscribe(topic, { qos: 1 }, (err) => {
        if (err) this.logger.warn({ err: err.message }, 'config topic subscription failed');
      });
    client.on('connect', subscribe);
    if (client.connected) subscribe();
    client.on('message', (t, payload) => {
      if (t !== topic || this.stopping) return;
      // An empty retained message clears the topic (the site was dropped by the hub): the agent keeps what it runs.
      if (payload.length === 0) return;
      this.applying = this.applying.then(() => this.onHubConfig(payload));
    });
  }

  private async onHubConfig(payload: Buffer): Promise<void> {
    const decoded = decodeSiteConfig(payload, this.config.site);
    if (!decoded.ok) {
      this.refused = {
        version: decoded.version,
        code: decoded.code,
        detail: decoded.detail.slice(0, 512),
        at: new Date().toISOString(),
      };
      this.logger.error(
        { code: decoded.code, detail: decoded.detail, version: decoded.version, running: this.configVersion },
        'hub configuration refused: keeping the last good one',
      );
      this.publishStatus();
      return;
    }
    const next = decoded.config;
    // The retained message comes again at every reconnection; an older one (a slower hub) never replaces a newer.
    if (this.hubConfig && next.version <= this.hubConfig.version) return;
    await this.applyHubConfig(next);
  }

  /**
   * Runs a new hub configuration without a restart: cameras removed or changed are stopped, added or changed ones
   * started; cameras whose definition is the same keep running untouched (their subscription and state too).
   */
  private async applyHubConfig(next: SiteConfig): Promise<void> {
    if (this.stopping) return;
    try {
      this.hubConfigStore.save(next);
    } catch (err) {
      // Still applied: the cameras run now; only a restart before the next save would go back to the old one.
      this.logger.error({ err: errorMessage(err), file: this.hubConfigStore.file }, 'hub configuration not saved');
    }
    const effective = effectiveCameras(this.config.cameras, next);
    const wanted = new Map(effective.run.map((e) => [e.camera.id, e.camera]));
    const stopped: string[] = [];
    for (const [id, supervisor] of this.supervisors) {
      const camera = wanted.get(id);
      const current = this.effective.run.find((e) => e.camera.id === id)?.camera;
      if (camera && current && sameConnection(camera, current)) continue;
      this.supervisors.delete(id);
      stopped.push(id);
      await this.health.remove(id);
      await supervisor.stop();
      this.lastCameraStatus.delete(id);
    }
    // Renamed cameras say their new name in their next retained status at once.
    for (const [id, status] of this.lastCameraStatus) {
      const name = wanted.get(id)?.name;
      if (!name || status.name === name) continue;
      const renamed = { ...status, name };
      this.lastCameraStatus.set(id, renamed);
      if (this.link.connected) void this.link.publish('status', renamed).catch(() => undefined);
    }
    this.hubConfig = next;
    this.effective = effective;
    this.refused = undefined;
    const started: string[] = [];
    for (const [id, camera] of wanted) {
      if (this.supervisors.has(id) || this.stopping) continue;
      const supervisor = this.createSupervisor(camera);
      if (!supervisor) continue;
      this.health.add(supervisor);
      supervisor.start();
      started.push(id);
    }
    for (const id of this.failed.keys()) if (!wanted.has(id)) this.failed.delete(id);
    // An adopted camera leaves the list at once, a removed one comes back, without waiting for the next probe.
    this.unadopted = unadopted(
      this.found,
      effective.run.map((e) => e.camera),
    );
    this.logger.info({ version: next.version, started, stopped }, 'hub configuration applied');
    this.publishStatus();
  }

  private async discover(): Promise<void> {
    const found = await probe(3000, this.logger);
    this.found = found;
    const next = unadopted(
      found,
      this.effective.run.map((e) => e.camera),
    );
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
    await this.applying;
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
