import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { DigestAuthenticator, readUsernameToken, WsSecurityVerifier } from './auth.js';
import { BaseNotificationRegistry } from './base-notification.js';
import { parseDurationMs, parseTerminationLeaseMs } from './durations.js';
import { InvalidRequestError } from './errors.js';
import {
  inputEvent,
  motionEvent,
  notificationMessageXml,
  tamperEvent,
  type MotionVariant,
  type Notification,
  type PropertyOperation,
} from './event-topics.js';
import * as responses from './onvif-responses.js';
import { SERVICE_PATHS, type CameraDescription } from './onvif-responses.js';
import { PullPointRegistry, type PullPointSubscription } from './pull-point.js';
import { type StreamMode } from './rtsp-process.js';
import { type SnapshotStore } from './snapshots.js';
import { envelope, faultBody, faults, faultStatus, SOAP_CONTENT_TYPE, type SoapFault } from './soap.js';
import { child, childNames, parseXml, text, type XmlNode } from './xml.js';

export type FaultMode =
  | 'none'
  | 'hang'
  | 'refuse'
  | 'reboot'
  | 'clock-skew'
  | 'no-termination-time'
  | 'fault-on-renew'
  | 'freeze-stream'
  | 'black-stream'
  | 'short-lease'
  | 'immediate-pull'
  | 'no-initialized'
  | 'inconsistent-current-time'
  | 'no-events-service'
  | 'uris-change-after-reboot'
  | 'http-401-unauthenticated'
  | 'broken-pullpoint';

export const FAULT_MODES: readonly FaultMode[] = [
  'none',
  'hang',
  'refuse',
  'reboot',
  'clock-skew',
  'no-termination-time',
  'fault-on-renew',
  'freeze-stream',
  'black-stream',
  'short-lease',
  'immediate-pull',
  'no-initialized',
  'inconsistent-current-time',
  'no-events-service',
  'uris-change-after-reboot',
  'http-401-unauthenticated',
  'broken-pullpoint',
];

export interface FaultOptions {
  /** clock-skew: the offset (default +2 h). reboot: the clock offset the camera comes back with (a jump). */
  skewMs?: number;
  /** reboot: how long the camera is down (default 3 s). Other modes: revert to `none` after this long. */
  durationMs?: number;
  /** short-lease: the lease granted whatever the client asks for (default 10 s). */
  leaseMs?: number;
}

export interface CameraStats {
  activeSubscriptions: number;
  subscriptionsCreated: number;
  pullCalls: number;
  renewCalls: number;
  unsubscribeCalls: number;
  authFailures: number;
  reboots: number;
  /** Notifications handed to clients in PullMessages answers. */
  notificationsDelivered: number;
  /** Of those, the `Changed` ones: each is an event a client must publish (Initialized ones report state). */
  changesDelivered: number;
  /** Requests to the events service while it does not exist (`no-events-service`). */
  eventsServiceRequests: number;
  /** CreatePullPointSubscription requests to any service, answered or not. */
  createPullPointRequests: number;
  /** Live base-notification (`Subscribe`) subscriptions, and how many were created. */
  baseSubscriptions: number;
  baseSubscriptionsCreated: number;
}

export interface SimCamera {
  index: number;
  id: string;
  port: number;
  host: string;
  deviceServiceUrl: string;
  username: string;
  password: string;
  rtspUrl: string | null;
  snapshotUrl: string;
  setMotion(active: boolean): void;
  setTamper(active: boolean): void;
  setInput(active: boolean): void;
  emit(
    topic: string,
    items: Record<string, string>,
    opts?: { source?: Record<string, string>; propertyOperation?: PropertyOperation; utcTime?: string },
  ): void;
  setFault(mode: FaultMode, opts?: FaultOptions): void;
  /** Every subscription forgotten at once, without a reboot (the camera's state stays). */
  dropSubscriptions(): void;
  stats(): CameraStats;
  /** When the last PullMessages requests arrived (ms epoch, up to 1000), oldest first. */
  pullTimes(): readonly number[];
  /** When the last PullMessages answers were sent (ms epoch, up to 1000), oldest first. */
  pullAnswerTimes(): readonly number[];
}

export interface CameraConfig {
  index: number;
  id: string;
  host: string;
  /** Host written into URLs (XAddrs, subscription addresses): `host` unless that is a wildcard address. */
  advertisedHost: string;
  port: number;
  username: string;
  password: string;
  rtspUrl: string | null;
  motionVariant: MotionVariant;
  clockSkewMs: number;
  maxSubscriptions: number;
  initialStateOnSubscribe: boolean;
}

export interface CameraDependencies {
  snapshots: SnapshotStore;
  setStreamMode: ((cameraId: string, mode: StreamMode) => void) | null;
  /** Lets `/sim/cameras/<id>/...` on any camera's port control a sibling (e.g. one that is refusing). */
  findSibling: (id: string) => SimulatedCamera | undefined;
  log: (message: string) => void;
}

type SoapReply = { body: string } | { fault: SoapFault };
type ServiceName = 'device' | 'media' | 'events' | 'subscription';

const WS_SECURITY_WINDOW_MS = 5 * 60_000;
const DEFAULT_SKEW_MS = 2 * 3_600_000;
const DEFAULT_REBOOT_MS = 3_000;
/** `inconsistent-current-time`: 27 years, what one device's CurrentTime said. */
const INCONSISTENT_SKEW_MS = 27 * 365 * 86_400_000;
const DEFAULT_LEASE_MS = 60_000;
/** Leases are capped like on real cameras (and to stay within setTimeout's range). */
const MAX_LEASE_MS = 24 * 3_600_000;
const MAX_PULL_TIMEOUT_MS = 10 * 60_000;
const MAX_BODY_BYTES = 1024 * 1024;

class ControlRequestError extends InvalidRequestError {}

/** One simulated ONVIF camera: its HTTP endpoint (SOAP services, snapshot, /sim control) and its state. */
export class SimulatedCamera implements SimCamera {
  readonly index: number;
  readonly id: string;
  readonly port: number;
  readonly host: string;
  readonly deviceServiceUrl: string;
  readonly username: string;
  readonly password: string;
  readonly rtspUrl: string | null;
  readonly snapshotUrl: string;
  readonly motionVariant: MotionVariant;
  readonly endpointReference: string;

  private readonly server: Server;
  private readonly description: CameraDescription;
  private readonly pullPoints: PullPointRegistry;
  private readonly wsSecurity: WsSecurityVerifier;
  private readonly digest: DigestAuthenticator;
  private readonly counters = {
    subscriptionsCreated: 0,
    pullCalls: 0,
    renewCalls: 0,
    unsubscribeCalls: 0,
    authFailures: 0,
    reboots: 0,
    notificationsDelivered: 0,
    changesDelivered: 0,
    eventsServiceRequests: 0,
    createPullPointRequests: 0,
  };
  private mode: FaultMode = 'none';
  private shortLeaseMs = 10_000;
  private inconsistentSkewMs = INCONSISTENT_SKEW_MS;
  /** Bumped by `uris-change-after-reboot`: the snapshot address moves and the old one answers 404. */
  private uriGeneration = 0;
  private pullAnswers = 0;
  private readonly baseSubscriptions: BaseNotificationRegistry;
  private readonly pullArrivals: number[] = [];
  private readonly pullAnswered: number[] = [];
  private modeTimer: NodeJS.Timeout | undefined;
  /** Clock offset the camera booted with (SimulatorOptions.clockSkewMs, or a reboot's jump). */
  private bootClockOffsetMs: number;
  private faultClockOffsetMs = 0;
  private bootedAt = Date.now();
  private motion = false;
  private tamper = false;
  private input = false;
  private streamMode: StreamMode = 'live';
  /** Responses withheld while the camera hangs; their sockets are destroyed when it stops hanging. */
  private readonly held = new Set<ServerResponse>();
  private listening = false;
  private listenerChange: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly config: CameraConfig,
    private readonly deps: CameraDependencies,
  ) {
    this.index = config.index;
    this.id = config.id;
    this.port = config.port;
    this.host = config.advertisedHost;
    this.username = config.username;
    this.password = config.password;
    this.rtspUrl = config.rtspUrl;
    this.motionVariant = config.motionVariant;
    this.bootClockOffsetMs = config.clockSkewMs;
    const baseUrl = `http://${config.advertisedHost}:${config.port}`;
    this.deviceServiceUrl = `${baseUrl}${SERVICE_PATHS.device}`;
    this.snapshotUrl = `${baseUrl}${SERVICE_PATHS.snapshot}`;
    const digest = createHash('sha1').update(`${config.advertisedHost}:${config.port}/${config.id}`).digest('hex');
    this.endpointReference = `urn:uuid:${digest.slice(0, 8)}-${digest.slice(8, 12)}-5${digest.slice(13, 16)}-a${digest.slice(17, 20)}-${digest.slice(20, 32)}`;
    this.description = {
      id: config.id,
      baseUrl,
      motionVariant: config.motionVariant,
      serialNumber: `SIM${digest.slice(0, 10).toUpperCase()}`,
      streaming: config.rtspUrl !== null,
    };
    this.pullPoints = new PullPointRegistry({ maxSubscriptions: config.maxSubscriptions, maxQueuedMessages: 1000 });
    this.baseSubscriptions = new BaseNotificationRegistry((message) => this.deps.log(`${this.id}: ${message}`));
    const credentials = { username: config.username, password: config.password };
    this.wsSecurity = new WsSecurityVerifier(credentials, {
      windowMs: WS_SECURITY_WINDOW_MS,
      cameraNow: () => this.cameraNow(),
    });
    this.digest = new DigestAuthenticator('camhub-sim', credentials);
    this.server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
      this.handle(req, res).catch((error: Error) => {
        this.deps.log(`${this.id}: ${req.method} ${req.url} failed: ${error.stack ?? error.message}`);
        if (!res.headersSent) this.send(res, 500, { 'Content-Type': 'text/plain' }, 'internal simulator error');
      });
    });
  }

  /** The camera's own clock: host time plus its offset (configured skew, fault skew, reboot jump). */
  cameraNow(): number {
    return Date.now() + this.bootClockOffsetMs + this.faultClockOffsetMs;
  }

  currentMode(): FaultMode {
    return this.mode;
  }

  isReachable(): boolean {
    return (
      this.mode !== 'hang' &&
      this.mode !== 'refuse' &&
      this.mode !== 'reboot' &&
      this.mode !== 'uris-change-after-reboot'
    );
  }

  /** The snapshot path of this boot (moves with `uris-change-after-reboot`). */
  private get snapshotPath(): string {
    return this.uriGeneration === 0 ? SERVICE_PATHS.snapshot : `${SERVICE_PATHS.snapshot}/boot-${this.uriGeneration}`;
  }

  /** Loses every subscription at once without a reboot (a firmware hiccup): clients find out on their next call. */
  dropSubscriptions(): void {
    this.pullPoints.removeAll();
    this.baseSubscriptions.removeAll();
  }

  async start(): Promise<void> {
    await this.setListening(true);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.modeTimer);
    this.pullPoints.removeAll();
    this.baseSubscriptions.removeAll();
    this.releaseHeld();
    await this.setListening(false);
  }

  pullTimes(): readonly number[] {
    return this.pullArrivals;
  }

  pullAnswerTimes(): readonly number[] {
    return this.pullAnswered;
  }

  stats(): CameraStats {
    return {
      activeSubscriptions: this.pullPoints.size,
      ...this.counters,
      // Pushed notifications count as delivered once the consumer answered 2xx.
      notificationsDelivered: this.counters.notificationsDelivered + this.baseSubscriptions.delivered,
      changesDelivered: this.counters.changesDelivered + this.baseSubscriptions.changesDelivered,
      baseSubscriptions: this.baseSubscriptions.size,
      baseSubscriptionsCreated: this.baseSubscriptions.created,
    };
  }

  state(): Record<string, unknown> {
    return {
      id: this.id,
      index: this.index,
      mode: this.mode,
      streamMode: this.streamMode,
      motion: this.motion,
      tamper: this.tamper,
      input: this.input,
      motionVariant: this.motionVariant,
      cameraTime: new Date(this.cameraNow()).toISOString(),
      clockOffsetMs: this.bootClockOffsetMs + this.faultClockOffsetMs,
      bootedAt: new Date(this.bootedAt).toISOString(),
      deviceServiceUrl: this.deviceServiceUrl,
      rtspUrl: this.rtspUrl,
      stats: this.stats(),
    };
  }

  setMotion(active: boolean): void {
    this.motion = active;
    this.publish(motionEvent(this.motionVariant, active), 'Changed');
  }

  setTamper(active: boolean): void {
    this.tamper = active;
    this.publish(tamperEvent(active), 'Changed');
  }

  setInput(active: boolean): void {
    this.input = active;
    this.publish(inputEvent(active), 'Changed');
  }

  emit(
    topic: string,
    items: Record<string, string>,
    opts: { source?: Record<string, string>; propertyOperation?: PropertyOperation; utcTime?: string } = {},
  ): void {
    this.broadcast({
      topic,
      source: opts.source ?? {},
      data: items,
      propertyOperation: opts.propertyOperation ?? 'Changed',
      utcTime: opts.utcTime ?? new Date(this.cameraNow()).toISOString(),
    });
  }

  /** To every PullPoint subscription's queue, and pushed to every base-notification consumer. */
  private broadcast(notification: Notification): void {
    this.pullPoints.publish(notification);
    this.baseSubscriptions.publish(notification, (subscription) =>
      notificationMessageXml(notification, this.subscriptionAddress(subscription), this.deviceServiceUrl),
    );
  }

  setFault(mode: FaultMode, opts: FaultOptions = {}): void {
    if (!FAULT_MODES.includes(mode)) throw new InvalidRequestError(`unknown fault mode ${JSON.stringify(mode)}`);
    if (this.closed) return;
    clearTimeout(this.modeTimer);
    this.modeTimer = undefined;
    const previous = this.mode;
    this.mode = mode;
    if (previous === 'hang' && mode !== 'hang') this.releaseHeld();
    this.faultClockOffsetMs = mode === 'clock-skew' ? (opts.skewMs ?? DEFAULT_SKEW_MS) : 0;
    if (mode === 'short-lease') this.shortLeaseMs = opts.leaseMs ?? 10_000;
    if (mode === 'inconsistent-current-time') this.inconsistentSkewMs = opts.skewMs ?? INCONSISTENT_SKEW_MS;
    this.setStreamMode(mode === 'freeze-stream' ? 'frozen' : mode === 'black-stream' ? 'black' : 'live');
    const down = mode === 'refuse' || mode === 'reboot' || mode === 'uris-change-after-reboot';
    this.setListening(!down).catch((error: Error) =>
      this.deps.log(`${this.id}: cannot ${down ? 'close' : 'reopen'} port ${this.port}: ${error.message}`),
    );
    if (mode === 'reboot' || mode === 'uris-change-after-reboot') {
      this.powerCycle();
      if (mode === 'uris-change-after-reboot') this.uriGeneration += 1;
      this.modeTimer = setTimeout(() => {
        if (opts.skewMs !== undefined) this.bootClockOffsetMs = opts.skewMs;
        this.bootedAt = Date.now();
        this.setFault('none');
      }, opts.durationMs ?? DEFAULT_REBOOT_MS);
    } else if (mode !== 'none' && opts.durationMs !== undefined) {
      this.modeTimer = setTimeout(() => this.setFault('none'), opts.durationMs);
    }
    if (previous !== mode) this.deps.log(`${this.id}: fault mode ${previous} -> ${mode}`);
  }

  /** What a reboot loses: subscriptions, event state, auth nonces. */
  private powerCycle(): void {
    this.counters.reboots += 1;
    this.pullPoints.removeAll();
    this.baseSubscriptions.removeAll();
    this.motion = false;
    this.tamper = false;
    this.input = false;
    this.wsSecurity.reset();
    this.digest.reset();
  }

  private setStreamMode(mode: StreamMode): void {
    if (mode === this.streamMode) return;
    this.streamMode = mode;
    this.deps.setStreamMode?.(this.id, mode);
  }

  private publish(event: Pick<Notification, 'topic' | 'source' | 'data'>, operation: PropertyOperation): void {
    this.broadcast({
      ...event,
      propertyOperation: operation,
      utcTime: new Date(this.cameraNow()).toISOString(),
    });
  }

  private queueCurrentState(subscription: PullPointSubscription): void {
    const utcTime = new Date(this.cameraNow()).toISOString();
    for (const event of [
      motionEvent(this.motionVariant, this.motion),
      tamperEvent(this.tamper),
      inputEvent(this.input),
    ]) {
      this.pullPoints.enqueue(subscription, { ...event, propertyOperation: 'Initialized', utcTime });
    }
  }

  // ---- listening socket (refuse / reboot close it) ----

  private setListening(wanted: boolean): Promise<void> {
    // A failed earlier change was already reported to whoever asked for it; this one starts from the real state.
    this.listenerChange = this.listenerChange
      .catch(() => undefined)
      .then(async () => {
        if (wanted && this.closed) return;
        if (wanted === this.listening) return;
        if (wanted) {
          await new Promise<void>((resolve, reject) => {
            this.server.once('error', reject);
            this.server.listen(this.config.port, this.config.host, () => {
              this.server.off('error', reject);
              resolve();
            });
          });
        } else {
          const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
          // Connections in progress die too: a refusing or rebooting camera resets them.
          this.server.closeAllConnections();
          await closed;
        }
        this.listening = wanted;
      });
    return this.listenerChange;
  }

  private releaseHeld(): void {
    for (const res of this.held) res.socket?.destroy();
    this.held.clear();
  }

  // ---- HTTP ----

  private send(res: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer): void {
    if (this.mode === 'hang') {
      this.held.add(res);
      res.once('close', () => this.held.delete(res));
      return;
    }
    if (res.destroyed || res.headersSent) return;
    res.writeHead(status, { ...headers, 'Content-Length': String(Buffer.byteLength(body)) });
    res.end(body);
  }

  private sendSoap(res: ServerResponse, reply: SoapReply): void {
    if ('fault' in reply) {
      this.send(res, faultStatus(reply.fault), { 'Content-Type': SOAP_CONTENT_TYPE }, envelope(faultBody(reply.fault)));
    } else {
      this.send(res, 200, { 'Content-Type': SOAP_CONTENT_TYPE }, envelope(reply.body));
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://camera').pathname;
    if (path.startsWith('/sim/')) return this.handleControl(req, res, path);
    if (this.mode === 'hang') return this.send(res, 200, {}, '');
    if (path === this.snapshotPath && (req.method === 'GET' || req.method === 'HEAD')) {
      return this.handleSnapshot(req, res, req.url ?? path);
    }
    const service: ServiceName | null =
      path === SERVICE_PATHS.device
        ? 'device'
        : path === SERVICE_PATHS.media
          ? 'media'
          : path === SERVICE_PATHS.events
            ? 'events'
            : path.startsWith(SERVICE_PATHS.subscriptionPrefix)
              ? 'subscription'
              : null;
    if (service === null) return this.send(res, 404, { 'Content-Type': 'text/plain' }, 'not found');
    if (req.method !== 'POST') return this.send(res, 405, { Allow: 'POST', 'Content-Type': 'text/plain' }, 'POST only');
    return this.handleSoap(req, res, service, path.slice(SERVICE_PATHS.subscriptionPrefix.length));
  }

  private async handleSnapshot(req: IncomingMessage, res: ServerResponse, uri: string): Promise<void> {
    const outcome = this.digest.verify(req.headers.authorization, req.method ?? 'GET', uri);
    if (outcome !== 'ok') {
      if (outcome === 'invalid') this.counters.authFailures += 1;
      return this.send(
        res,
        401,
        { 'WWW-Authenticate': this.digest.challenge(), 'Content-Type': 'text/plain' },
        'unauthorized',
      );
    }
    const jpeg =
      this.streamMode === 'black' ? await this.deps.snapshots.black() : await this.deps.snapshots.pattern(this.id);
    this.send(
      res,
      200,
      { 'Content-Type': 'image/jpeg', 'Cache-Control': 'no-store' },
      req.method === 'HEAD' ? '' : jpeg,
    );
  }

  private async handleSoap(
    req: IncomingMessage,
    res: ServerResponse,
    service: ServiceName,
    subscriptionId: string,
  ): Promise<void> {
    let parsed: { action: string; actionNode: XmlNode | undefined; header: XmlNode | undefined };
    try {
      parsed = readSoapRequest(await readBody(req));
    } catch (error) {
      if (!(error instanceof InvalidRequestError)) throw error;
      return this.sendSoap(res, { fault: faults.invalidArgument(error.message) });
    }
    const { action, actionNode, header } = parsed;
    if (action === 'CreatePullPointSubscription') this.counters.createPullPointRequests += 1;
    // Some firmware answers an unauthenticated GetSystemDateAndTime with HTTP 401 (Digest) instead of a SOAP Fault.
    const preAuth =
      service === 'device' && action === 'GetSystemDateAndTime' && this.mode !== 'http-401-unauthenticated';
    if (this.mode === 'no-events-service' && (service === 'events' || service === 'subscription')) {
      this.counters.eventsServiceRequests += 1;
      return this.send(res, 404, { 'Content-Type': 'text/plain' }, 'not found');
    }
    if (!preAuth) {
      const token = readUsernameToken(header);
      if (token !== null) {
        const refusal = this.wsSecurity.verify(token);
        if (refusal !== null) {
          this.counters.authFailures += 1;
          this.deps.log(`${this.id}: WS-Security refused for ${action}: ${refusal}`);
          return this.sendSoap(res, { fault: faults.notAuthorized() });
        }
      } else {
        const outcome = this.digest.verify(req.headers.authorization, req.method ?? 'POST', req.url ?? '');
        if (outcome !== 'ok') {
          if (outcome === 'invalid') this.counters.authFailures += 1;
          return this.send(
            res,
            401,
            { 'WWW-Authenticate': this.digest.challenge(), 'Content-Type': 'text/plain' },
            'unauthorized',
          );
        }
      }
    }
    const abort = new AbortController();
    res.once('close', () => abort.abort());
    let reply: SoapReply;
    try {
      reply = await this.dispatch(service, action, actionNode, subscriptionId, abort.signal);
    } catch (error) {
      if (!(error instanceof InvalidRequestError)) throw error;
      reply = { fault: faults.invalidArgument(error.message) };
    }
    this.sendSoap(res, reply);
  }

  private dispatch(
    service: ServiceName,
    action: string,
    node: XmlNode | undefined,
    subscriptionId: string,
    signal: AbortSignal,
  ): SoapReply | Promise<SoapReply> {
    const camera = this.description;
    switch (`${service}:${action}`) {
      case 'device:GetSystemDateAndTime':
        return { body: responses.systemDateAndTime(this.cameraNow()) };
      case 'device:GetDeviceInformation':
        return { body: responses.deviceInformation(camera) };
      case 'device:GetServices':
        return {
          body: responses.services(
            camera,
            text(child(node, 'IncludeCapability')) === 'true',
            this.mode !== 'no-events-service',
          ),
        };
      case 'device:GetCapabilities':
        return { body: responses.capabilities(camera, this.mode !== 'no-events-service') };
      case 'device:GetServiceCapabilities':
        return { body: responses.serviceCapabilities('device', camera) };
      case 'device:GetScopes':
        return { body: responses.scopesResponse(camera) };
      case 'device:GetHostname':
        return { body: responses.hostname(camera) };
      case 'device:SystemReboot':
        // Answer first, then go down, like a real device.
        setTimeout(() => this.setFault('reboot'), 50);
        return {
          body: '<tds:SystemRebootResponse><tds:Message>Rebooting in 1 second</tds:Message></tds:SystemRebootResponse>',
        };
      case 'media:GetProfiles':
        return { body: responses.profiles() };
      case 'media:GetProfile':
        return { body: responses.profile() };
      case 'media:GetVideoSources':
        return { body: responses.videoSources() };
      case 'media:GetStreamUri':
        return this.rtspUrl === null
          ? {
              fault: faults.noSuchStream(
                'RTSP streaming is not available on this simulator (GStreamer missing or disabled)',
              ),
            }
          : { body: responses.streamUri(this.rtspUrl) };
      case 'media:GetSnapshotUri':
        return { body: responses.snapshotUri(`${this.description.baseUrl}${this.snapshotPath}`) };
      case 'media:SetSynchronizationPoint':
        return { body: '<trt:SetSynchronizationPointResponse/>' };
      case 'media:GetServiceCapabilities':
        return { body: responses.serviceCapabilities('media', camera) };
      case 'events:GetEventProperties':
        return { body: responses.eventProperties(this.motionVariant) };
      case 'events:GetServiceCapabilities':
        return { body: responses.serviceCapabilities('events', camera) };
      case 'events:CreatePullPointSubscription':
        // `broken-pullpoint`: firmware that lists PullPoint yet refuses it; base notification still works.
        if (this.mode === 'broken-pullpoint') return { fault: faults.actionNotSupported(action) };
        return this.createPullPoint(node);
      case 'events:Subscribe':
        return this.subscribeBase(node);
      case 'events:SetSynchronizationPoint':
        // Not bound to one subscription here, so every live one gets the current state.
        if (this.mode !== 'no-initialized') {
          for (const subscription of this.pullPoints.all()) this.queueCurrentState(subscription);
        }
        return { body: '<tev:SetSynchronizationPointResponse/>' };
    }
    if (service === 'subscription') {
      const base = this.baseSubscriptions.get(subscriptionId);
      if (base !== undefined && action === 'Renew') {
        this.counters.renewCalls += 1;
        this.baseSubscriptions.renew(base, this.grantedLease(text(child(node, 'TerminationTime'))));
        return { body: responses.renewed(this.cameraNow(), this.onCameraClock(base.expiresAt)) };
      }
      if (base !== undefined && action === 'Unsubscribe') {
        this.counters.unsubscribeCalls += 1;
        this.baseSubscriptions.remove(base);
        return { body: '<wsnt:UnsubscribeResponse/>' };
      }
      const subscription = this.pullPoints.get(subscriptionId);
      if (action === 'PullMessages') {
        this.counters.pullCalls += 1;
        this.pullArrivals.push(Date.now());
        if (this.pullArrivals.length > 1000) this.pullArrivals.shift();
      }
      if (action === 'Renew') this.counters.renewCalls += 1;
      if (action === 'Unsubscribe') this.counters.unsubscribeCalls += 1;
      if (
        subscription === undefined &&
        ['PullMessages', 'Renew', 'Unsubscribe', 'SetSynchronizationPoint'].includes(action)
      ) {
        return {
          fault: faults.resourceUnknown(
            `no subscription ${subscriptionId} (expired, unsubscribed or lost in a reboot)`,
          ),
        };
      }
      if (subscription !== undefined) {
        switch (action) {
          case 'PullMessages':
            return this.pullMessages(subscription, node, signal);
          case 'Renew':
            return this.renew(subscription, node);
          case 'Unsubscribe':
            this.pullPoints.remove(subscription);
            return { body: '<wsnt:UnsubscribeResponse/>' };
          case 'SetSynchronizationPoint':
            // `no-initialized`: accepted, but the camera never reports its current state.
            if (this.mode !== 'no-initialized') this.queueCurrentState(subscription);
            return { body: '<tev:SetSynchronizationPointResponse/>' };
        }
      }
    }
    return { fault: faults.actionNotSupported(action) };
  }

  /** WS-BaseNotification Subscribe: the consumer address the camera will POST Notify messages to. */
  private subscribeBase(node: XmlNode | undefined): SoapReply {
    const consumer = text(child(child(node, 'ConsumerReference'), 'Address'));
    if (!consumer || !/^https?:\/\//.test(consumer))
      throw new InvalidRequestError('Subscribe needs ConsumerReference/Address, an http(s) URL');
    if (this.pullPoints.size + this.baseSubscriptions.size >= this.config.maxSubscriptions)
      return { fault: faults.tooManySubscriptions(this.config.maxSubscriptions) };
    const subscription = this.baseSubscriptions.create(
      consumer,
      this.grantedLease(text(child(node, 'InitialTerminationTime'))),
    );
    return {
      body:
        '<wsnt:SubscribeResponse>' +
        `<wsnt:SubscriptionReference><wsa:Address>${this.subscriptionAddress(subscription)}</wsa:Address></wsnt:SubscriptionReference>` +
        `<wsnt:CurrentTime>${new Date(this.cameraNow()).toISOString()}</wsnt:CurrentTime>` +
        `<wsnt:TerminationTime>${new Date(this.onCameraClock(subscription.expiresAt)).toISOString()}</wsnt:TerminationTime>` +
        '</wsnt:SubscribeResponse>',
    };
  }

  private subscriptionAddress(subscription: { id: string }): string {
    return `${this.description.baseUrl}${SERVICE_PATHS.subscriptionPrefix}${subscription.id}`;
  }

  /** Host epoch time shown on the camera clock. */
  private onCameraClock(hostEpochMs: number): number {
    return hostEpochMs + this.bootClockOffsetMs + this.faultClockOffsetMs;
  }

  private leaseFrom(value: string | undefined): number {
    if (value === undefined || value === '') return DEFAULT_LEASE_MS;
    const lease = parseTerminationLeaseMs(value, this.cameraNow());
    if (lease <= 0) throw new InvalidRequestError(`termination time ${value} is not in the future`);
    return Math.min(lease, MAX_LEASE_MS);
  }

  /** What was asked for, unless `short-lease`: then its own short lease whatever was asked (it ignores the request). */
  private grantedLease(value: string | undefined): number {
    const asked = this.leaseFrom(value);
    return this.mode === 'short-lease' ? this.shortLeaseMs : asked;
  }

  private createPullPoint(node: XmlNode | undefined): SoapReply {
    if (this.pullPoints.isFull()) return { fault: faults.tooManySubscriptions(this.config.maxSubscriptions) };
    const subscription = this.pullPoints.create(this.grantedLease(text(child(node, 'InitialTerminationTime'))));
    this.counters.subscriptionsCreated += 1;
    if (this.config.initialStateOnSubscribe && this.mode !== 'no-initialized') this.queueCurrentState(subscription);
    return {
      body: responses.subscriptionCreated(
        this.subscriptionAddress(subscription),
        this.cameraNow(),
        this.onCameraClock(subscription.expiresAt),
      ),
    };
  }

  private async pullMessages(
    subscription: PullPointSubscription,
    node: XmlNode | undefined,
    signal: AbortSignal,
  ): Promise<SoapReply> {
    const timeoutText = text(child(node, 'Timeout'));
    const limitText = text(child(node, 'MessageLimit'));
    const timeoutMs = Math.min(timeoutText ? parseDurationMs(timeoutText) : 10_000, MAX_PULL_TIMEOUT_MS);
    const limit = limitText ? Number.parseInt(limitText, 10) : 100;
    if (!Number.isInteger(limit) || limit < 1)
      throw new InvalidRequestError(`MessageLimit must be a positive integer, got ${limitText}`);
    // `immediate-pull`: answers at once even with nothing to say, instead of holding the request for Timeout.
    const outcome = await this.pullPoints.pull(
      subscription,
      this.mode === 'immediate-pull' ? 0 : timeoutMs,
      limit,
      signal,
    );
    if (outcome.kind === 'gone') {
      return { fault: faults.resourceUnknown(`subscription ${subscription.id} ended while PullMessages was waiting`) };
    }
    const address = this.subscriptionAddress(subscription);
    this.counters.notificationsDelivered += outcome.messages.length;
    this.pullAnswered.push(Date.now());
    if (this.pullAnswered.length > 1000) this.pullAnswered.shift();
    this.counters.changesDelivered += outcome.messages.filter((m) => m.propertyOperation === 'Changed').length;
    this.pullAnswers += 1;
    // `inconsistent-current-time`: every other answer's CurrentTime (and its events' UtcTime) is off by years,
    // while GetSystemDateAndTime stays right (issue 18: events dated 2053).
    const wrong = this.mode === 'inconsistent-current-time' && this.pullAnswers % 2 === 0;
    const offset = wrong ? this.inconsistentSkewMs : 0;
    const messages = outcome.messages
      .map((message) =>
        notificationMessageXml(
          wrong ? { ...message, utcTime: new Date(Date.parse(message.utcTime) + offset).toISOString() } : message,
          address,
          this.deviceServiceUrl,
        ),
      )
      .join('');
    const times =
      this.mode === 'no-termination-time'
        ? null
        : {
            cameraNowMs: this.cameraNow() + offset,
            terminationMs: this.onCameraClock(subscription.expiresAt) + offset,
          };
    return { body: responses.pulledMessages(messages, times) };
  }

  private renew(subscription: PullPointSubscription, node: XmlNode | undefined): SoapReply {
    if (this.mode === 'fault-on-renew') {
      // The camera has lost the subscription: the fault says so and the subscription is really gone.
      this.pullPoints.remove(subscription);
      return { fault: faults.resourceUnknown(`subscription ${subscription.id} is unknown to the camera`) };
    }
    this.pullPoints.renew(subscription, this.grantedLease(text(child(node, 'TerminationTime'))));
    return { body: responses.renewed(this.cameraNow(), this.onCameraClock(subscription.expiresAt)) };
  }

  // ---- /sim control ----

  private async handleControl(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const sibling = /^\/sim\/cameras\/([^/]+)(\/.*)$/.exec(path);
    if (sibling) {
      const target = this.deps.findSibling(decodeURIComponent(sibling[1]!));
      if (!target) return this.sendJsonNow(res, 404, { error: `no camera ${sibling[1]} in this simulator` });
      return target.handleControl(req, res, `/sim${sibling[2]}`);
    }
    let after: (() => void) | undefined;
    try {
      const command = path.slice('/sim/'.length);
      if (req.method === 'GET' && command === 'state') return this.sendJsonNow(res, 200, this.state());
      if (req.method !== 'POST') return this.sendJsonNow(res, 405, { error: 'use POST (or GET /sim/state)' });
      const body = await readJson(req);
      switch (command) {
        case 'motion':
          this.setMotion(requireBoolean(body, 'active'));
          break;
        case 'tamper':
          this.setTamper(requireBoolean(body, 'active'));
          break;
        case 'input':
          this.setInput(requireBoolean(body, 'active'));
          break;
        case 'drop-subscriptions':
          this.dropSubscriptions();
          break;
        case 'emit': {
          const topic = body.topic;
          if (typeof topic !== 'string' || topic === '')
            throw new ControlRequestError('"topic" must be a non-empty string');
          this.emit(topic, requireStringRecord(body, 'items'), {
            source: body.source === undefined ? {} : requireStringRecord(body, 'source'),
          });
          break;
        }
        case 'fault': {
          const mode = body.mode;
          if (typeof mode !== 'string' || !FAULT_MODES.includes(mode as FaultMode)) {
            throw new ControlRequestError(`"mode" must be one of ${FAULT_MODES.join(', ')}`);
          }
          const options: FaultOptions = {};
          const skewMs = optionalNumber(body, 'skewMs');
          const durationMs = optionalNumber(body, 'durationMs');
          const leaseMs = optionalNumber(body, 'leaseMs');
          if (leaseMs !== undefined) options.leaseMs = leaseMs;
          if (skewMs !== undefined) options.skewMs = skewMs;
          if (durationMs !== undefined) options.durationMs = durationMs;
          // Applied once the answer is out: refuse/reboot would otherwise cut this very connection.
          after = () => this.setFault(mode as FaultMode, options);
          break;
        }
        default:
          return this.sendJsonNow(res, 404, { error: `unknown control command ${command}` });
      }
    } catch (error) {
      if (!(error instanceof InvalidRequestError)) throw error;
      return this.sendJsonNow(res, 400, { error: error.message });
    }
    res.once('finish', () => after?.());
    this.sendJsonNow(res, 200, { ok: true, state: this.state() });
  }

  private sendJsonNow(res: ServerResponse, status: number, value: unknown): void {
    const body = JSON.stringify(value);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) });
    res.end(body);
  }
}

function readSoapRequest(xml: string): {
  action: string;
  actionNode: XmlNode | undefined;
  header: XmlNode | undefined;
} {
  const soapEnvelope = child(parseXml(xml), 'Envelope');
  const body = child(soapEnvelope, 'Body');
  const action = childNames(body)[0];
  if (soapEnvelope === undefined || action === undefined)
    throw new InvalidRequestError('not a SOAP envelope with a Body');
  return { action, actionNode: child(body, action), header: child(soapEnvelope, 'Header') };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new InvalidRequestError(`request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req);
  if (raw.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new ControlRequestError(`body is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ControlRequestError('body must be a JSON object');
  return value as Record<string, unknown>;
}

function requireBoolean(body: Record<string, unknown>, name: string): boolean {
  const value = body[name];
  if (typeof value !== 'boolean') throw new ControlRequestError(`"${name}" must be true or false`);
  return value;
}

function optionalNumber(body: Record<string, unknown>, name: string): number | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ControlRequestError(`"${name}" must be a number`);
  return value;
}

function requireStringRecord(body: Record<string, unknown>, name: string): Record<string, string> {
  const value = body[name];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ControlRequestError(`"${name}" must be an object of strings`);
  }
  const entries = Object.entries(value);
  if (!entries.every(([, item]) => typeof item === 'string'))
    throw new ControlRequestError(`"${name}" values must be strings`);
  return Object.fromEntries(entries) as Record<string, string>;
}
