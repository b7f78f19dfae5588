import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { Logger } from 'pino';
import { errorMessage, EventsNotSupportedError, SoapFaultError } from '../errors.js';
import {
  type Created,
  isNotSupported,
  leaseTimesOf,
  notificationsOf,
  type PullPointTransport,
  type PullResult,
  SoapPullPointTransport,
  type Subscription,
} from './events.js';
import type { LeaseTimes } from './lease.js';
import { textOf, type RawNotification } from './normalise.js';
import { child, escapeXml, parseXml, soapCall } from './soap.js';

const SUBSCRIBE = 'http://docs.oasis-open.org/wsn/bw-2/NotificationProducer/SubscribeRequest';
const MAX_BODY_BYTES = 1024 * 1024;

type Handler = (notifications: RawNotification[], receivedAt: Date) => void;

/**
 * The HTTP endpoint cameras POST `wsnt:Notify` to (WS-BaseNotification), for firmware whose PullPoint is broken
 * while `Subscribe` works (Home Assistant does the same). One server for the agent; each camera has its own path
 * with a random token, so another host on the LAN cannot inject events by guessing a camera id.
 */
export class NotificationServer {
  private readonly server: http.Server;
  private readonly handlers = new Map<string, Handler>();

  constructor(private readonly logger: Logger) {
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** Registers a camera; returns the path its notifications must be POSTed to. */
  register(camera: string, handler: Handler): string {
    const path = `/onvif/notify/${encodeURIComponent(camera)}/${randomBytes(12).toString('hex')}`;
    this.handlers.set(path, handler);
    return path;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const handler = this.handlers.get(new URL(req.url ?? '/', 'http://agent').pathname);
    if (!handler || req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy();
      else chunks.push(chunk);
    });
    req.on('end', () => {
      const receivedAt = new Date();
      let notifications: RawNotification[];
      try {
        const body = child(child(parseXml(Buffer.concat(chunks).toString('utf8')), 'Envelope'), 'Body');
        notifications = notificationsOf(child(body, 'Notify'));
      } catch (err) {
        this.logger.warn({ err: errorMessage(err) }, 'unreadable Notify from a camera');
        res.writeHead(400).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/soap+xml; charset=utf-8' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">' +
          '<s:Body/></s:Envelope>',
      );
      if (notifications.length > 0) handler(notifications, receivedAt);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Base notification behind the PullPoint interface, so the one supervisor (granted lease, renew, backoff,
 * reconciliation, health) drives both: `create` is Subscribe with our consumer address, `pull` waits for what the
 * camera pushed (held for the pull timeout like a well-behaved PullMessages), Renew and Unsubscribe are the same
 * SubscriptionManager calls. A dead subscription shows at the next Renew, which faults and re-creates it.
 */
export class BaseNotificationTransport extends SoapPullPointTransport {
  private queue: RawNotification[] = [];
  private wake: (() => void) | null = null;

  constructor(
    eventsUrl: () => string | null,
    cameraId: string,
    credentials: { username: string; password: string },
    cameraOffsetMs: () => number,
    rewriteAddress: (address: string) => string,
    private readonly consumerUrl: string,
  ) {
    super(eventsUrl, cameraId, credentials, cameraOffsetMs, rewriteAddress);
  }

  /** What the notification server received for this camera. */
  deliver(notifications: RawNotification[]): void {
    this.queue.push(...notifications);
    this.wake?.();
  }

  override async create(leaseSec: number, timeoutMs: number): Promise<Created> {
    const url = this.eventsUrl();
    if (url === null) throw new EventsNotSupportedError(this.cameraId);
    const { body } = await soapCall({
      url,
      action: SUBSCRIBE,
      body:
        '<wsnt:Subscribe><wsnt:ConsumerReference>' +
        `<wsa:Address>${escapeXml(this.consumerUrl)}</wsa:Address></wsnt:ConsumerReference>` +
        `<wsnt:InitialTerminationTime>PT${leaseSec}S</wsnt:InitialTerminationTime></wsnt:Subscribe>`,
      credentials: this.credentials,
      cameraOffsetMs: this.cameraOffsetMs(),
      timeoutMs,
    });
    const response = child(body, 'SubscribeResponse');
    const address = textOf(child(child(response, 'SubscriptionReference'), 'Address')).trim();
    if (!address) throw new SoapFaultError('Subscribe', 'no-address', 'no SubscriptionReference', 200);
    // Whatever was queued belongs to an earlier subscription and was already handled or is stale.
    this.queue = [];
    return {
      subscription: { address: this.rewriteAddress(address), referenceParameters: '' },
      ...leaseTimesOf(response),
    };
  }

  override async setSynchronizationPoint(): Promise<void> {
    // PullPoint-only: a base subscription has no way to ask for the current state.
  }

  override pull(_sub: Subscription, pullTimeoutSec: number, limit: number, _t: number, signal: AbortSignal) {
    return new Promise<PullResult>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', finish);
        this.wake = null;
        resolve({ notifications: this.queue.splice(0, limit) });
      };
      const timer = setTimeout(finish, pullTimeoutSec * 1000);
      signal.addEventListener('abort', finish, { once: true });
      if (this.queue.length > 0) finish();
      else this.wake = finish;
    });
  }
}

/**
 * PullPoint first; when the camera says PullPoint is not implemented (`ActionNotSupported` to
 * CreatePullPointSubscription) and a notification endpoint is configured, base notification from then on.
 */
export class FallbackTransport implements PullPointTransport {
  private useBase = false;

  constructor(
    private readonly pullPoint: PullPointTransport,
    private readonly base: BaseNotificationTransport | null,
    private readonly logger: Logger,
  ) {}

  get mode(): 'pullpoint' | 'base_notification' {
    return this.useBase ? 'base_notification' : 'pullpoint';
  }

  private get active(): PullPointTransport {
    return this.useBase && this.base ? this.base : this.pullPoint;
  }

  async create(leaseSec: number, timeoutMs: number): Promise<Created> {
    if (this.useBase || !this.base) return this.active.create(leaseSec, timeoutMs);
    try {
      return await this.pullPoint.create(leaseSec, timeoutMs);
    } catch (err) {
      if (!isNotSupported(err) || err instanceof EventsNotSupportedError) throw err;
      this.logger.warn({ err: errorMessage(err) }, 'PullPoint not implemented: falling back to base notification');
      this.useBase = true;
      return this.base.create(leaseSec, timeoutMs);
    }
  }

  setSynchronizationPoint(sub: Subscription, timeoutMs: number): Promise<void> {
    return this.active.setSynchronizationPoint(sub, timeoutMs);
  }

  pull(sub: Subscription, sec: number, limit: number, timeoutMs: number, signal: AbortSignal): Promise<PullResult> {
    return this.active.pull(sub, sec, limit, timeoutMs, signal);
  }

  renew(sub: Subscription, leaseSec: number, timeoutMs: number): Promise<LeaseTimes> {
    return this.active.renew(sub, leaseSec, timeoutMs);
  }

  unsubscribe(sub: Subscription, timeoutMs: number): Promise<void> {
    return this.active.unsubscribe(sub, timeoutMs);
  }
}
