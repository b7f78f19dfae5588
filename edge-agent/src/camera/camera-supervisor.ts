import type { CameraEvent } from '@camhub/shared';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { Backoff, sleep } from '../backoff.js';
import type { AgentConfig, CameraConfig } from '../config.js';
import { errorMessage } from '../errors.js';
import type { ProbeTarget } from '../health/camera-probe.js';
import type { PictureEventDraft } from '../health/picture-watch.js';
import { ClipRecorder } from '../media/clip-recorder.js';
import type { MediaQueue } from '../media/media-queue.js';
import { fetchSnapshot, type SnapshotSource } from '../media/snapshot.js';
import { BaseNotificationTransport, FallbackTransport, type NotificationServer } from '../onvif/base-notification.js';
import { OnvifClient } from '../onvif/client.js';
import {
  type PullPointStats,
  PullPointSupervisor,
  SoapPullPointTransport,
  type Subscription,
} from '../onvif/events.js';
import { normalise, type RawNotification } from '../onvif/normalise.js';
import type { Outbox } from '../outbox/outbox.js';
import type { SeqStore } from '../seq-store.js';
import { type EventDraft, EventStateTracker } from './event-state.js';
import { eventTime } from './event-time.js';

/** Media addresses are re-read at most this often on failures (a broken stream is probed every health interval). */
const REFRESH_MIN_MS = 5000;

export interface CameraDeps {
  config: AgentConfig;
  camera: CameraConfig;
  outbox: Outbox;
  seq: SeqStore;
  media: MediaQueue | null;
  logger: Logger;
  /** The base-notification endpoint (when configured) and the base URL cameras reach it at. */
  notify?: { server: NotificationServer; url: string } | null;
}

/**
 * Everything about one camera: connection, clock, PullPoint loop, event state, snapshots. Each camera has its own
 * supervisor with its own timers and backoff, so one hanging or rebooting camera never delays another.
 */
export class CameraSupervisor implements ProbeTarget {
  readonly client: OnvifClient;
  /** When ONVIF connect last succeeded (ms), null before: health probes give a fresh connection time to subscribe. */
  connectedAt: number | null = null;
  private readonly tracker: EventStateTracker;
  private pullPoint: PullPointSupervisor | null = null;
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private clockTimer: NodeJS.Timeout | null = null;
  /**
   * Events are written in the order they happened, even when an earlier one waits for its snapshot. The chain holds
   * each event until it is written, not until it is durable: see append.
   */
  private chain: Promise<void> = Promise.resolve();
  /** Written events whose fdatasync has not finished yet (stop waits for them). */
  private readonly syncing = new Set<Promise<unknown>>();
  private reachable = false;
  private lastError: string | null = null;
  private readonly log: Logger;
  eventsEmitted = 0;
  private refreshing: Promise<void> | null = null;
  private transport: FallbackTransport | null = null;
  private lastRefreshAt = 0;
  private replacedEventTimes = 0;
  /** Event clips, when the camera opted in (and there is a hub to upload them to). */
  readonly clips: ClipRecorder | null;

  constructor(private readonly deps: CameraDeps) {
    this.log = deps.logger.child({ camera: deps.camera.id });
    this.client = new OnvifClient(deps.camera, deps.config.onvif.requestTimeoutMs, this.log);
    this.tracker = new EventStateTracker({
      motionTimeoutMs: deps.config.motionTimeoutSec * 1000,
      stateTimeoutMs: deps.config.stateTimeoutSec * 1000,
      emit: (draft) => this.enqueue(draft),
    });
    const clip = deps.camera.clips;
    this.clips =
      clip && deps.media
        ? new ClipRecorder({
            site: deps.config.site,
            camera: deps.camera.id,
            dir: join(deps.config.dataDir, 'clips', deps.camera.id),
            clip,
            streamUrl: () => this.streamUrl(clip.profile),
            media: deps.media,
            publish: (link) => deps.outbox.append('clips', link),
            logger: deps.logger,
          })
        : null;
  }

  get id(): string {
    return this.deps.camera.id;
  }

  start(): void {
    this.loop ??= this.run();
    this.clips?.start();
  }

  private async run(): Promise<void> {
    const o = this.deps.config.onvif;
    const backoff = new Backoff(o.backoffMinMs, o.backoffMaxMs);
    while (!this.abort.signal.aborted) {
      try {
        await this.client.connect();
        this.connectedAt = Date.now();
        this.reachable = true;
        this.lastError = null;
        break;
      } catch (err) {
        this.reachable = false;
        this.lastError = errorMessage(err);
        const delay = backoff.next();
        this.log.warn({ err: this.lastError, retryInMs: delay }, 'camera connect failed');
        await sleep(delay, this.abort.signal);
      }
    }
    if (this.abort.signal.aborted) return;
    const info = this.client.info!;
    this.log.info(
      {
        model: info.model,
        manufacturer: info.manufacturer,
        clockOffsetMs: this.client.clockOffsetMs,
        events: info.eventsUrl,
      },
      'camera connected',
    );
    // Read at every create: a refresh of the camera's services (after an outage) may have changed it.
    const eventsUrl = () => {
      const url = this.client.info?.eventsUrl ?? null;
      return url === null ? null : this.client.reachable(url);
    };
    const offset = () => this.client.clockOffsetMs ?? 0;
    const reachable = (address: string) => this.client.reachable(address);
    const pullPoint = new SoapPullPointTransport(eventsUrl, this.id, this.client.credentials, offset, reachable);
    const notify = this.deps.notify;
    let base: BaseNotificationTransport | null = null;
    if (notify) {
      const path = notify.server.register(this.id, (list) => base?.deliver(list));
      base = new BaseNotificationTransport(
        eventsUrl,
        this.id,
        this.client.credentials,
        offset,
        reachable,
        `${notify.url}${path}`,
      );
    }
    this.transport = new FallbackTransport(pullPoint, base, this.log);
    const transport = this.transport;
    this.pullPoint = new PullPointSupervisor(
      transport,
      o,
      {
        onPulled: (currentTime, receivedAt) => this.client.observeCameraTime(currentTime, receivedAt.getTime()),
        onNotifications: (list, receivedAt) => this.onNotifications(list, receivedAt),
        onNotAuthorized: async () => {
          await this.client.measureClock();
        },
        onSubscription: (sub) => {
          this.rememberSubscription(sub);
          // What the camera said between the old subscription and this one is lost: reconcile on its first answer.
          if (sub) this.tracker.markStale();
          // A re-created subscription usually follows a reboot, when stream and snapshot addresses may have changed.
          if (sub && (this.pullPoint?.stats.created ?? 0) >= 1) this.refreshCameraInfo('resubscribed');
        },
        onEventsNotSupported: () => this.refreshCameraInfo('events re-check', true),
        onSynchronised: (_recreated, receivedAt) => this.tracker.closeStale(receivedAt),
        onStateChange: (subscribed, reason) => {
          if (subscribed) this.reachable = true;
          this.lastError = subscribed ? null : (reason ?? null);
        },
      },
      this.log,
      Date.now,
      () => this.client.clockOffsetMs ?? 0,
    );
    this.pullPoint.start(this.leftoverSubscription());
    this.clockTimer = setInterval(() => {
      this.client.measureClock().then(
        () => {
          this.reachable = true;
          this.deviceAnswered();
        },
        (err: unknown) => {
          this.reachable = false;
          this.log.debug({ err: errorMessage(err) }, 'clock check failed');
        },
      );
    }, o.clockCheckSec * 1000);
    this.clockTimer.unref();
  }

  /**
   * Reads services, profiles, stream and snapshot URIs again (they change with a reboot, a firmware update or a
   * profile change). At most once per REFRESH_MIN_MS unless `force`, one at a time; a failure keeps what we had.
   */
  refreshCameraInfo(reason: string, force = false): Promise<void> {
    if (this.refreshing) return this.refreshing;
    if (!force && Date.now() - this.lastRefreshAt < REFRESH_MIN_MS) return Promise.resolve();
    this.lastRefreshAt = Date.now();
    const before = this.client.info;
    this.refreshing = this.client
      .connect()
      .then((info) => {
        const changed =
          info.streamUri !== before?.streamUri ||
          info.snapshotUri !== before?.snapshotUri ||
          info.eventsUrl !== before?.eventsUrl;
        this.log.info(
          { reason, changed, streamUri: info.streamUri, snapshotUri: info.snapshotUri, events: info.eventsUrl },
          'camera services and media addresses read again',
        );
      })
      .catch((err: unknown) => this.log.warn({ err: errorMessage(err), reason }, 'could not re-read the camera'))
      .finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  /** The stream probe could not read the stream: its address may have changed. */
  streamFailed(): void {
    void this.refreshCameraInfo('stream failed');
  }

  private get subscriptionFile(): string {
    return join(this.deps.config.dataDir, 'subscriptions', `${this.deps.camera.id}.json`);
  }

  /** Written atomically (tmp + rename); losing it only means a leftover lease runs out on the camera by itself. */
  private rememberSubscription(sub: Subscription | null): void {
    try {
      if (!sub) {
        rmSync(this.subscriptionFile, { force: true });
        return;
      }
      mkdirSync(join(this.deps.config.dataDir, 'subscriptions'), { recursive: true });
      writeFileSync(`${this.subscriptionFile}.tmp`, JSON.stringify(sub));
      renameSync(`${this.subscriptionFile}.tmp`, this.subscriptionFile);
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'could not record the subscription address');
    }
  }

  private leftoverSubscription(): Subscription | null {
    try {
      const parsed = JSON.parse(readFileSync(this.subscriptionFile, 'utf8')) as Partial<Subscription>;
      if (typeof parsed.address !== 'string') return null;
      this.log.info({ address: parsed.address }, 'unsubscribing the subscription a previous run left behind');
      return { address: parsed.address, referenceParameters: parsed.referenceParameters ?? '' };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.log.warn({ err: errorMessage(err) }, 'unreadable subscription record ignored');
      }
      return null;
    }
  }

  /**
   * Camera time → hub time with the measured offset; missing or bogus camera times → when we received it; a time
   * beyond `onvif.eventTimeToleranceSec` of the receive time → the receive time, flagged (event-time.ts).
   */
  private onNotifications(list: RawNotification[], receivedAt: Date): void {
    const toleranceMs = this.deps.config.onvif.eventTimeToleranceSec * 1000;
    for (const raw of list) {
      const n = normalise(raw);
      const { at, replaced } = eventTime(n.cameraTime, this.client.clockOffsetMs ?? 0, receivedAt, toleranceMs);
      if (replaced) {
        this.replacedEventTimes += 1;
        n.data = { ...n.data, timeReplaced: true, cameraTime: n.cameraTime!.toISOString() };
        this.log.warn({ topic: n.topic, cameraTime: n.cameraTime, at }, 'implausible event time replaced');
      }
      this.log.debug({ type: n.type, active: n.active, topic: n.topic, initialized: n.initialized }, 'notification');
      this.tracker.handle(n, at);
    }
  }

  takeReplacedEventTimes(): number {
    const n = this.replacedEventTimes;
    this.replacedEventTimes = 0;
    return n;
  }

  private snapshotSource(): SnapshotSource | null {
    const mode = this.deps.camera.snapshot ?? 'onvif';
    const info = this.client.info;
    if (mode === 'off' || !info || !this.deps.media) return null;
    if (mode === 'onvif' && info.snapshotUri) {
      return { kind: 'onvif', uri: this.client.reachable(info.snapshotUri), credentials: this.client.credentials };
    }
    if (info.streamUri && mode !== 'onvif') return { kind: 'rtsp', uri: info.streamUri };
    // No address (GetSnapshotUri/GetStreamUri failed at connect, e.g. timed out): ask again for the next event.
    void this.refreshCameraInfo('no snapshot address');
    return null;
  }

  private enqueue(draft: EventDraft): void {
    // The id is taken now so that the clip, which outlives this call by its post-roll, can name its event.
    const id = uuidv7();
    if (this.clips) {
      const key = `${draft.type} ${draft.topic}`;
      const at = draft.at.getTime();
      if (draft.state === 'start') this.clips.begin(id, at, key);
      else if (draft.state === 'pulse') this.clips.begin(id, at, null);
      else this.clips.end(key, at);
    }
    const source = draft.state === 'start' ? this.snapshotSource() : null;
    const timeoutMs = this.deps.config.media.snapshotTimeoutMs;
    // The fetch starts now, in parallel with earlier events' fetches; only the publishing is serialised.
    const snapshot: Promise<string | undefined> = source
      ? fetchSnapshot(source, timeoutMs).then(
          (jpeg) => this.deps.media!.put(jpeg),
          (err: unknown) => {
            this.log.info({ err: errorMessage(err) }, 'no snapshot for this event');
            // The next event should not fail the same way if the address moved.
            void this.refreshCameraInfo('snapshot failed');
            return undefined;
          },
        )
      : Promise.resolve(undefined);
    this.chain = this.chain
      .then(async () => {
        const durable = this.store(draft, await snapshot, id);
        durable.catch((err: unknown) => this.log.error({ err: errorMessage(err) }, 'could not store an event'));
      })
      .catch((err: unknown) => this.log.error({ err: errorMessage(err) }, 'could not store an event'));
  }

  private store(draft: EventDraft, snapshot: string | undefined, id: string): Promise<void> {
    return this.append(
      {
        type: draft.type,
        state: draft.state,
        at: draft.at,
        source: { kind: 'onvif', topic: draft.topic.slice(0, 512) },
      },
      Object.keys(draft.data).length > 0 ? draft.data : undefined,
      snapshot,
      id,
    );
  }

  /**
   * Numbers an event and writes it to the outbox at once (so events are written in call order); the promise resolves
   * once it is durable and logged. The one way any event of this camera is stored. The caller's chain goes on to the
   * next event as soon as this one is written: the outbox's group commit then makes a burst durable with one
   * fdatasync, where waiting for each event's own made one camera's rate 1 / fdatasync latency (the fault suite's
   * flood of 5,000 events from one camera took over 20 s to drain at load 11, 125 events/s).
   */
  private append(
    fields: Pick<CameraEvent, 'type' | 'state' | 'source'> & { at: Date },
    data: CameraEvent['data'],
    snapshot: string | undefined,
    id: string = uuidv7(),
  ): Promise<void> {
    const { config, camera } = this.deps;
    const event: CameraEvent = {
      v: 1,
      id,
      site: config.site,
      camera: camera.id,
      seq: this.deps.seq.take(camera.id),
      type: fields.type,
      state: fields.state,
      at: fields.at.toISOString(),
      source: fields.source,
    };
    if (data) event.data = data;
    if (snapshot) event.snapshot = snapshot;
    // The write happens in this call; the promise is the fdatasync shared with whatever else was written meanwhile.
    const durable = this.deps.outbox.append('events', event).then(() => {
      this.eventsEmitted += 1;
      // Logged once durable: this line is the agent's own record of what it promised to deliver.
      this.log.info(
        { id: event.id, seq: event.seq, type: event.type, state: event.state, at: event.at, source: event.source.kind },
        'event stored',
      );
    });
    // Tracked settled (its failure is reported by whoever awaits `durable`), for stop() to wait on.
    const settled: Promise<boolean> = durable.then(
      () => this.syncing.delete(settled),
      () => this.syncing.delete(settled),
    );
    this.syncing.add(settled);
    return durable;
  }

  /** The camera answered some call: a PullPoint loop waiting out an outage's backoff retries now. */
  deviceAnswered(): void {
    this.pullPoint?.deviceAnswered();
  }

  /** How events arrive: `pullpoint`, or `base_notification` after the fallback (null before connecting). */
  eventsMode(): 'pullpoint' | 'base_notification' | null {
    return this.transport?.mode ?? null;
  }

  pullStats(): PullPointStats | null {
    return this.pullPoint?.stats ?? null;
  }

  /**
   * The profile's RTSP address on the configured host, with the camera's credentials (most cameras want them).
   * `sub`: the low-resolution profile when the camera has one, else the main.
   */
  streamUrl(profile: 'main' | 'sub' = 'main'): string | null {
    const info = this.client.info;
    const uri = profile === 'sub' ? (info?.subStreamUri ?? info?.streamUri) : info?.streamUri;
    if (!uri) return null;
    try {
      const url = new URL(this.client.reachable(uri));
      if (!url.username) {
        url.username = encodeURIComponent(this.deps.camera.username);
        url.password = encodeURIComponent(this.deps.camera.password);
      }
      return url.toString();
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'stream address is not a URL');
      return null;
    }
  }

  /** An event the agent saw in the video (frozen or black picture), numbered and stored like any other. */
  storeStreamEvent(draft: PictureEventDraft): Promise<void> {
    let durable: Promise<void> = Promise.resolve();
    // Logged once either way: a failure to write by the chain, a failure to make durable here; the caller hears both.
    const written = this.chain.then(() => {
      durable = this.append(
        { type: draft.type, state: draft.state, at: draft.at, source: { kind: 'stream', topic: draft.topic } },
        draft.data,
        undefined,
      );
      durable.catch((err: unknown) => this.log.error({ err: errorMessage(err) }, 'could not store an event'));
    });
    this.chain = written.catch((err: unknown) =>
      this.log.error({ err: errorMessage(err) }, 'could not store an event'),
    );
    return written.then(() => durable);
  }

  /** Stops pulling, unsubscribes, and waits for events already received to reach the outbox. */
  async stop(): Promise<void> {
    this.abort.abort();
    if (this.clockTimer) clearInterval(this.clockTimer);
    await this.loop;
    await this.pullPoint?.stop();
    this.tracker.dispose();
    await this.chain;
    await Promise.all(this.syncing);
    await this.clips?.stop();
  }
}
