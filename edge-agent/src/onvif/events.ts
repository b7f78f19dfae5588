import type { Logger } from 'pino';
import { Backoff, sleep } from '../backoff.js';
import { CameraTimeoutError, errorMessage, SoapFaultError } from '../errors.js';
import type { RawNotification } from './normalise.js';
import { child, children, type Credentials, escapeXml, soapCall } from './soap.js';
import { textOf } from './normalise.js';

export interface Subscription {
  address: string;
  /** Reference parameters to echo as SOAP headers (Axis puts a SubscriptionId there), raw XML. */
  referenceParameters: string;
}

export interface PullResult {
  notifications: RawNotification[];
  /** Optional: some firmware omits them, which must not matter (see notes: re-create storms). */
  currentTime?: string;
  terminationTime?: string;
}

/** The five PullPoint operations. The real one speaks SOAP; unit specs use a fake. */
export interface PullPointTransport {
  create(leaseSec: number, timeoutMs: number): Promise<Subscription>;
  setSynchronizationPoint(sub: Subscription, timeoutMs: number): Promise<void>;
  pull(
    sub: Subscription,
    pullTimeoutSec: number,
    limit: number,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<PullResult>;
  renew(sub: Subscription, leaseSec: number, timeoutMs: number): Promise<void>;
  unsubscribe(sub: Subscription, timeoutMs: number): Promise<void>;
}

const ACTIONS = {
  create: 'http://www.onvif.org/ver10/events/wsdl/EventPortType/CreatePullPointSubscriptionRequest',
  pull: 'http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/PullMessagesRequest',
  sync: 'http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/SetSynchronizationPointRequest',
  renew: 'http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/RenewRequest',
  unsubscribe: 'http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/UnsubscribeRequest',
} as const;

/** Parses the NotificationMessages of a PullMessagesResponse into our parser-neutral shape. */
export function notificationsOf(response: unknown): RawNotification[] {
  return children(response, 'NotificationMessage').map((n) => {
    const message = child(child(n, 'Message'), 'Message');
    return {
      topic: child(n, 'Topic') ?? '',
      utcTime: message?.UtcTime,
      propertyOperation: message?.PropertyOperation,
      source: { simpleItem: children(child(message, 'Source'), 'SimpleItem') },
      data: { simpleItem: children(child(message, 'Data'), 'SimpleItem') },
    };
  });
}

/**
 * PullPoint over our own SOAP client rather than the `onvif` package's: it hard-codes a 2-minute lease (PT2M) and
 * a 1-minute pull, and its parser turns values into booleans/numbers/Dates before we see them.
 */
export class SoapPullPointTransport implements PullPointTransport {
  constructor(
    private readonly eventsUrl: () => string,
    private readonly credentials: Credentials,
    private readonly cameraOffsetMs: () => number,
    private readonly rewriteAddress: (address: string) => string = (a) => a,
  ) {}

  private headers(sub: Subscription): string {
    return `<wsa:To s:mustUnderstand="1">${escapeXml(sub.address)}</wsa:To>${sub.referenceParameters}`;
  }

  async create(leaseSec: number, timeoutMs: number): Promise<Subscription> {
    const { body, raw } = await soapCall({
      url: this.eventsUrl(),
      action: ACTIONS.create,
      body: `<tev:CreatePullPointSubscription><tev:InitialTerminationTime>PT${leaseSec}S</tev:InitialTerminationTime></tev:CreatePullPointSubscription>`,
      credentials: this.credentials,
      cameraOffsetMs: this.cameraOffsetMs(),
      timeoutMs,
    });
    const ref = child(child(body, 'CreatePullPointSubscriptionResponse'), 'SubscriptionReference');
    const address = textOf(child(ref, 'Address')).trim();
    if (!address)
      throw new SoapFaultError('CreatePullPointSubscription', 'no-address', 'no SubscriptionReference', 200);
    const params = /<(?:[\w-]+:)?ReferenceParameters[^>]*>([\s\S]*?)<\/(?:[\w-]+:)?ReferenceParameters>/.exec(raw);
    return { address: this.rewriteAddress(address), referenceParameters: params?.[1]?.trim() ?? '' };
  }

  async setSynchronizationPoint(sub: Subscription, timeoutMs: number): Promise<void> {
    await soapCall({
      url: sub.address,
      action: ACTIONS.sync,
      body: '<tev:SetSynchronizationPoint/>',
      headers: this.headers(sub),
      credentials: this.credentials,
      cameraOffsetMs: this.cameraOffsetMs(),
      timeoutMs,
    });
  }

  async pull(sub: Subscription, pullTimeoutSec: number, limit: number, timeoutMs: number, signal: AbortSignal) {
    const { body } = await soapCall({
      url: sub.address,
      action: ACTIONS.pull,
      body: `<tev:PullMessages><tev:Timeout>PT${pullTimeoutSec}S</tev:Timeout><tev:MessageLimit>${limit}</tev:MessageLimit></tev:PullMessages>`,
      headers: this.headers(sub),
      credentials: this.credentials,
      cameraOffsetMs: this.cameraOffsetMs(),
      timeoutMs,
      signal,
    });
    const response = child(body, 'PullMessagesResponse');
    if (!response) throw new SoapFaultError('PullMessages', 'no-response', 'no PullMessagesResponse', 200);
    const currentTime = textOf(child(response, 'CurrentTime')) || undefined;
    const terminationTime = textOf(child(response, 'TerminationTime')) || undefined;
    return { notifications: notificationsOf(response), currentTime, terminationTime };
  }

  async renew(sub: Subscription, leaseSec: number, timeoutMs: number): Promise<void> {
    await soapCall({
      url: sub.address,
      action: ACTIONS.renew,
      body: `<wsnt:Renew><wsnt:TerminationTime>PT${leaseSec}S</wsnt:TerminationTime></wsnt:Renew>`,
      headers: this.headers(sub),
      credentials: this.credentials,
      cameraOffsetMs: this.cameraOffsetMs(),
      timeoutMs,
    });
  }

  async unsubscribe(sub: Subscription, timeoutMs: number): Promise<void> {
    await soapCall({
      url: sub.address,
      action: ACTIONS.unsubscribe,
      body: '<wsnt:Unsubscribe/>',
      headers: this.headers(sub),
      credentials: this.credentials,
      cameraOffsetMs: this.cameraOffsetMs(),
      timeoutMs,
    });
  }
}

export interface PullPointTimings {
  requestTimeoutMs: number;
  pullTimeoutSec: number;
  messageLimit: number;
  leaseSec: number;
  renewSec: number;
  backoffMinMs: number;
  backoffMaxMs: number;
}

export interface PullPointHooks {
  onNotifications(notifications: RawNotification[], receivedAt: Date): void;
  /** Every successful pull, with the camera's CurrentTime when it sent one. */
  onPulled?(currentTime: string | undefined, receivedAt: Date): void;
  /** WS-Security refused: the camera's clock probably jumped. Re-measure before the next attempt. */
  onNotAuthorized(): Promise<void>;
  onStateChange?(subscribed: boolean, reason?: string): void;
  /** The live subscription changed (null = none): persisted so a restarted agent can Unsubscribe a leftover. */
  onSubscription?(sub: Subscription | null): void;
}

export interface PullPointStats {
  created: number;
  renewed: number;
  pulls: number;
  failures: number;
  lastPullAt: Date | null;
  subscribed: boolean;
}

/**
 * Our own PullPoint loop: one subscription at a time, a deadline on every call, renew on our own schedule (never
 * driven by the camera's TerminationTime, which some firmware omits), re-create after a SOAP Fault, exponential
 * backoff with jitter after any failure, Unsubscribe of the old subscription before a new one and on stop.
 */
export class PullPointSupervisor {
  private sub: Subscription | null = null;
  private leaseFrom = 0;
  private stopping = false;
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private readonly backoff: Backoff;
  readonly stats: PullPointStats = {
    created: 0,
    renewed: 0,
    pulls: 0,
    failures: 0,
    lastPullAt: null,
    subscribed: false,
  };

  constructor(
    private readonly transport: PullPointTransport,
    private readonly timings: PullPointTimings,
    private readonly hooks: PullPointHooks,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.backoff = new Backoff(timings.backoffMinMs, timings.backoffMaxMs);
  }

  /**
   * Starts the loop. `leftover` is the subscription a previous run of the agent had when it died (SIGKILL, power
   * loss): it is unsubscribed first, so crashes do not fill the camera's few subscription slots.
   */
  start(leftover?: Subscription | null): void {
    this.loop ??= (async () => {
      if (leftover) {
        this.sub = leftover;
        await this.dropSubscription();
      }
      await this.run();
    })();
  }

  private setSubscribed(subscribed: boolean, reason?: string): void {
    if (this.stats.subscribed === subscribed) return;
    this.stats.subscribed = subscribed;
    this.hooks.onStateChange?.(subscribed, reason);
  }

  private async run(): Promise<void> {
    const t = this.timings;
    while (!this.stopping) {
      try {
        if (!this.sub) await this.subscribe();
        if (this.now() - this.leaseFrom >= t.renewSec * 1000) {
          await this.transport.renew(this.sub!, t.leaseSec, t.requestTimeoutMs);
          this.leaseFrom = this.now();
          this.stats.renewed += 1;
        }
        const result = await this.transport.pull(
          this.sub!,
          t.pullTimeoutSec,
          t.messageLimit,
          // The camera may legitimately hold the request for the whole pull timeout.
          t.pullTimeoutSec * 1000 + t.requestTimeoutMs,
          this.abort.signal,
        );
        const receivedAt = new Date(this.now());
        this.stats.pulls += 1;
        this.stats.lastPullAt = receivedAt;
        this.backoff.reset();
        this.setSubscribed(true);
        this.hooks.onPulled?.(result.currentTime, receivedAt);
        if (result.notifications.length > 0) this.hooks.onNotifications(result.notifications, receivedAt);
      } catch (err) {
        if (this.stopping) break;
        await this.recover(err);
      }
    }
  }

  private async subscribe(): Promise<void> {
    const t = this.timings;
    const sub = await this.transport.create(t.leaseSec, t.requestTimeoutMs);
    this.sub = sub;
    this.hooks.onSubscription?.(sub);
    this.leaseFrom = this.now();
    this.stats.created += 1;
    this.logger.info({ address: sub.address }, 'pull-point subscription created');
    this.setSubscribed(true);
    try {
      await this.transport.setSynchronizationPoint(sub, t.requestTimeoutMs);
    } catch (err) {
      // Optional on many cameras ("Action Not Implemented"): the subscription itself still works.
      if (!(err instanceof SoapFaultError)) throw err;
      this.logger.debug({ err: errorMessage(err) }, 'SetSynchronizationPoint refused; continuing without it');
    }
  }

  private async recover(err: unknown): Promise<void> {
    this.stats.failures += 1;
    const t = this.timings;
    let subscriptionGone = false;
    if (err instanceof SoapFaultError) {
      // A fault means the subscription is gone (expired, camera rebooted, renew refused): re-create it.
      subscriptionGone = true;
      if (err.isNotAuthorized)
        await this.hooks
          .onNotAuthorized()
          .catch((e: unknown) => this.logger.warn({ err: errorMessage(e) }, 'clock re-measure failed'));
    } else if (this.sub && this.now() - this.leaseFrom >= t.leaseSec * 1000) {
      // Unreachable for longer than the lease: it expired on the camera, so do not keep using it.
      subscriptionGone = true;
    }
    const delay = this.backoff.next();
    this.logger.warn(
      {
        err: errorMessage(err),
        code: (err as { code?: string }).code,
        retryInMs: delay,
        recreate: subscriptionGone,
        timeout: err instanceof CameraTimeoutError,
      },
      'pull-point call failed',
    );
    if (subscriptionGone) await this.dropSubscription();
    else this.setSubscribed(false, errorMessage(err));
    await sleep(delay, this.abort.signal);
  }

  /** Best-effort Unsubscribe so a camera with few subscription slots never fills up with our leftovers. */
  private async dropSubscription(): Promise<void> {
    const sub = this.sub;
    this.sub = null;
    this.setSubscribed(false, 'subscription gone');
    if (!sub) return;
    this.hooks.onSubscription?.(null);
    try {
      await this.transport.unsubscribe(sub, Math.min(this.timings.requestTimeoutMs, 2000));
    } catch (err) {
      this.logger.debug({ err: errorMessage(err) }, 'unsubscribe of the old subscription failed (already gone?)');
    }
  }

  /** Ends the loop (aborting a pending pull) and unsubscribes. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    await this.loop;
    await this.dropSubscription();
  }
}
