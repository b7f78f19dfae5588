import type { Logger } from 'pino';
import { Backoff, sleep } from '../backoff.js';
import { CameraTimeoutError, errorMessage, EventsNotSupportedError, SoapFaultError } from '../errors.js';
import { grantedLeaseMs, type LeaseTimes, renewDelayMs } from './lease.js';
import type { RawNotification } from './normalise.js';
import { textOf } from './normalise.js';
import { PullPacer } from './pull-pacer.js';
import { child, children, type Credentials, escapeXml, soapCall } from './soap.js';

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

/** A new subscription and the lease the camera granted for it. */
export interface Created extends LeaseTimes {
  subscription: Subscription;
}

/** The five PullPoint operations. The real one speaks SOAP; unit specs use a fake. */
export interface PullPointTransport {
  create(leaseSec: number, timeoutMs: number): Promise<Created>;
  setSynchronizationPoint(sub: Subscription, timeoutMs: number): Promise<void>;
  pull(
    sub: Subscription,
    pullTimeoutSec: number,
    limit: number,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<PullResult>;
  renew(sub: Subscription, leaseSec: number, timeoutMs: number): Promise<LeaseTimes>;
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

/** CurrentTime/TerminationTime of a Create, Renew or PullMessages response; absent ones stay undefined. */
export function leaseTimesOf(response: unknown): LeaseTimes {
  const times: LeaseTimes = {};
  const current = textOf(child(response, 'CurrentTime')).trim();
  const termination = textOf(child(response, 'TerminationTime')).trim();
  if (current) times.currentTime = current;
  if (termination) times.terminationTime = termination;
  return times;
}

/**
 * PullPoint over our own SOAP client rather than the `onvif` package's: it hard-codes a 2-minute lease (PT2M) and
 * a 1-minute pull, and its parser turns values into booleans/numbers/Dates before we see them.
 */
export class SoapPullPointTransport implements PullPointTransport {
  constructor(
    /** Null: the camera has no events service. */
    protected readonly eventsUrl: () => string | null,
    protected readonly cameraId: string,
    protected readonly credentials: Credentials,
    protected readonly cameraOffsetMs: () => number,
    protected readonly rewriteAddress: (address: string) => string = (a) => a,
  ) {}

  protected headers(sub: Subscription): string {
    return `<wsa:To s:mustUnderstand="1">${escapeXml(sub.address)}</wsa:To>${sub.referenceParameters}`;
  }

  async create(leaseSec: number, timeoutMs: number): Promise<Created> {
    const url = this.eventsUrl();
    if (url === null) throw new EventsNotSupportedError(this.cameraId);
    const { body, raw } = await soapCall({
      url,
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
    return {
      subscription: { address: this.rewriteAddress(address), referenceParameters: params?.[1]?.trim() ?? '' },
      ...leaseTimesOf(child(body, 'CreatePullPointSubscriptionResponse')),
    };
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
    return { notifications: notificationsOf(response), ...leaseTimesOf(response) };
  }

  async renew(sub: Subscription, leaseSec: number, timeoutMs: number): Promise<LeaseTimes> {
    const { body } = await soapCall({
      url: sub.address,
      action: ACTIONS.renew,
      body: `<wsnt:Renew><wsnt:TerminationTime>PT${leaseSec}S</wsnt:TerminationTime></wsnt:Renew>`,
      headers: this.headers(sub),
      credentials: this.credentials,
      cameraOffsetMs: this.cameraOffsetMs(),
      timeoutMs,
    });
    return leaseTimesOf(child(body, 'RenewResponse'));
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
  /** How often a camera without (working) events is asked again. */
  eventsProbeSec: number;
}

export interface PullPointHooks {
  onNotifications(notifications: RawNotification[], receivedAt: Date): void;
  /**
   * Every successful pull, with the camera's CurrentTime when it sent one; awaited before its notifications are
   * handled, so a clock re-measure it starts dates them.
   */
  onPulled?(currentTime: string | undefined, receivedAt: Date): void | Promise<void>;
  /** WS-Security refused: the camera's clock probably jumped. Re-measure before the next attempt. */
  onNotAuthorized(): Promise<void>;
  onStateChange?(subscribed: boolean, reason?: UnsubscribedReason): void;
  /** The live subscription changed (null = none): persisted so a restarted agent can Unsubscribe a leftover. */
  onSubscription?(sub: Subscription | null): void;
  /**
   * A subscription was created and its first pull handled (its Initialized messages, if the camera sends any, are
   * in it). `recreated`: an earlier subscription of this run existed, so whatever the camera said in between is lost.
   */
  onSynchronised?(recreated: boolean, receivedAt: Date): void;
  /** The camera said it has no (working) events: look again before the next rare attempt (services may change). */
  onEventsNotSupported?(): Promise<void>;
}

/** Why there is no live subscription (a machine code; health shows it). */
export type UnsubscribedReason =
  | 'not_started'
  | 'subscription_gone'
  | 'camera_unreachable'
  | 'subscribe_refused'
  | 'auth_refused'
  | 'events_not_supported';

export interface PullPointStats {
  created: number;
  /** Subscriptions created after the first (each one a gap in which events could be lost). */
  recreated: number;
  renewed: number;
  pulls: number;
  failures: number;
  /** Pulls the camera answered at once with nothing (it does not hold PullMessages). */
  earlyEmptyPulls: number;
  lastPullAt: Date | null;
  subscribed: boolean;
  /** Set while not subscribed. */
  unsubscribedReason: UnsubscribedReason | null;
  unsubscribedSince: Date | null;
  /** The lease the camera granted for the live subscription (ms), when it said. */
  grantedLeaseMs: number | null;
  /** The camera has no events service or refuses PullPoint as not implemented. */
  eventsNotSupported: boolean;
}

/** Fault codes by which a camera says it does not implement an operation at all (retrying soon will not help). */
const NOT_SUPPORTED = /ActionNotSupported|ActionNotImplemented|NotImplemented|OperationNotSupported/i;

export function isNotSupported(err: unknown): boolean {
  return (
    err instanceof EventsNotSupportedError ||
    (err instanceof SoapFaultError && NOT_SUPPORTED.test(`${err.faultCode} ${err.reason}`))
  );
}

/**
 * Our own PullPoint loop: one subscription at a time, a deadline on every call, renew from the lease the camera
 * granted (see lease.ts), paced pulls (pull-pacer.ts), re-create after a SOAP Fault, exponential backoff with
 * jitter after failures (reset as soon as the camera answers anything), Unsubscribe of the old subscription before
 * a new one and on stop.
 */
export class PullPointSupervisor {
  private sub: Subscription | null = null;
  private leaseFrom = 0;
  /** Our-clock ms at which the live subscription is renewed. */
  private renewAt = 0;
  /** Our-clock ms after which the live subscription is surely gone. */
  private expiresAt = 0;
  /** How long a subscription lived before the camera forgot it, when it never said: assumed for the next ones. */
  private observedLeaseMs: number | null = null;
  private synchronised = true;
  private lastFailureWasTransport = false;
  /** Ends a backoff sleep early when the camera is seen answering again (see `deviceAnswered`). */
  private wake: AbortController | null = null;
  private stopping = false;
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private readonly backoff: Backoff;
  private readonly pacer = new PullPacer();
  readonly stats: PullPointStats = {
    created: 0,
    recreated: 0,
    renewed: 0,
    pulls: 0,
    failures: 0,
    earlyEmptyPulls: 0,
    lastPullAt: null,
    subscribed: false,
    unsubscribedReason: 'not_started',
    unsubscribedSince: null,
    grantedLeaseMs: null,
    eventsNotSupported: false,
  };

  constructor(
    private readonly transport: PullPointTransport,
    private readonly timings: PullPointTimings,
    private readonly hooks: PullPointHooks,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    /** Camera clock − our clock (ms), for a TerminationTime sent without CurrentTime. */
    private readonly cameraOffsetMs: () => number = () => 0,
  ) {
    this.backoff = new Backoff(timings.backoffMinMs, timings.backoffMaxMs);
    this.stats.unsubscribedSince = new Date(this.now());
  }

  /**
   * Starts the loop. `leftover` is the subscription a previous run of the agent had when it died (SIGKILL, power
   * loss): it is unsubscribed first, so crashes do not fill the camera's few subscription slots.
   */
  start(leftover?: Subscription | null): void {
    this.loop ??= (async () => {
      if (leftover) {
        this.sub = leftover;
        await this.dropSubscription('not_started');
      }
      await this.run();
    })();
  }

  private setSubscribed(subscribed: boolean, reason?: UnsubscribedReason): void {
    if (!subscribed) {
      if (reason) this.stats.unsubscribedReason = reason;
      this.stats.unsubscribedSince ??= new Date(this.now());
    }
    if (this.stats.subscribed === subscribed) return;
    this.stats.subscribed = subscribed;
    if (subscribed) {
      this.stats.unsubscribedReason = null;
      this.stats.unsubscribedSince = null;
    }
    this.hooks.onStateChange?.(subscribed, reason);
  }

  /** Our schedule from what the camera granted: renew at 70 % of it, expect it gone at its end. */
  private applyLease(times: LeaseTimes, from: number): void {
    const t = this.timings;
    const granted = grantedLeaseMs(times, from + this.cameraOffsetMs());
    if (granted !== null && granted < t.leaseSec * 900 && this.stats.grantedLeaseMs === null) {
      this.logger.info({ requestedSec: t.leaseSec, grantedMs: granted }, 'camera granted a shorter lease');
    }
    if (granted !== null) this.stats.grantedLeaseMs = granted;
    const known = granted ?? this.observedLeaseMs;
    this.renewAt = from + renewDelayMs(known, t.leaseSec, t.renewSec);
    this.expiresAt = from + Math.min(known ?? t.leaseSec * 1000, t.leaseSec * 1000);
  }

  private async run(): Promise<void> {
    const t = this.timings;
    while (!this.stopping) {
      try {
        if (!this.sub) await this.subscribe();
        if (this.now() >= this.renewAt) {
          const from = this.now();
          const times = await this.transport.renew(this.sub!, t.leaseSec, t.requestTimeoutMs);
          this.leaseFrom = from;
          this.applyLease(times, from);
          this.stats.renewed += 1;
        }
        // Never hold a pull past the renew point: a long pull on a short lease would outlive the subscription.
        const untilRenewSec = Math.floor((this.renewAt - this.now()) / 1000);
        const pullSec = Math.max(1, Math.min(t.pullTimeoutSec, untilRenewSec));
        const startedAt = this.now();
        const result = await this.transport.pull(
          this.sub!,
          pullSec,
          t.messageLimit,
          // The camera may legitimately hold the request for the whole pull timeout.
          pullSec * 1000 + t.requestTimeoutMs,
          this.abort.signal,
        );
        const endedAt = this.now();
        const receivedAt = new Date(endedAt);
        this.stats.pulls += 1;
        this.stats.lastPullAt = receivedAt;
        this.backoff.reset();
        this.lastFailureWasTransport = false;
        this.setSubscribed(true);
        // A TerminationTime sooner than we planned for (the camera shortened the lease) moves the renew earlier.
        const before = this.renewAt;
        if (result.terminationTime) {
          const granted = grantedLeaseMs(result, endedAt + this.cameraOffsetMs());
          if (granted !== null) this.renewAt = Math.min(before, endedAt + Math.round(granted * 0.7));
        }
        await this.hooks.onPulled?.(result.currentTime, receivedAt);
        if (result.notifications.length > 0) this.hooks.onNotifications(result.notifications, receivedAt);
        if (!this.synchronised) {
          this.synchronised = true;
          this.hooks.onSynchronised?.(this.stats.created > 1, receivedAt);
        }
        const wait = this.pacer.next(startedAt, endedAt, pullSec * 1000, result.notifications.length > 0);
        if (this.pacer.streak > 0) this.stats.earlyEmptyPulls += 1;
        if (this.pacer.streak === 5) {
          this.logger.info({ waitMs: wait }, 'camera answers PullMessages at once: pacing pulls');
        }
        if (wait > 0) await sleep(wait, this.abort.signal);
      } catch (err) {
        if (this.stopping) break;
        await this.recover(err);
      }
    }
  }

  private async subscribe(): Promise<void> {
    const t = this.timings;
    const from = this.now();
    const created = await this.transport.create(t.leaseSec, t.requestTimeoutMs);
    const sub = created.subscription;
    this.sub = sub;
    this.hooks.onSubscription?.(sub);
    this.leaseFrom = from;
    this.stats.grantedLeaseMs = null;
    this.applyLease(created, from);
    this.stats.created += 1;
    if (this.stats.created > 1) this.stats.recreated += 1;
    this.stats.eventsNotSupported = false;
    this.synchronised = false;
    this.pacer.reset();
    this.logger.info(
      { address: sub.address, grantedLeaseMs: this.stats.grantedLeaseMs, renewInMs: this.renewAt - from },
      'pull-point subscription created',
    );
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
    if (!this.sub && isNotSupported(err)) {
      await this.notSupported(err);
      return;
    }
    let subscriptionGone = false;
    let reason: UnsubscribedReason = 'camera_unreachable';
    if (err instanceof SoapFaultError) {
      // The camera answers: whatever backoff the outage built up is over (issue 18: a reboot's first answer was a
      // fault, and the re-create still waited 57 s). Faults in a row still back off among themselves.
      if (this.lastFailureWasTransport) this.backoff.reset();
      this.lastFailureWasTransport = false;
      // A fault means the subscription is gone (expired, camera rebooted, renew refused): re-create it. Except a
      // WS-Security refusal: the camera did not look at the request, so the subscription (and the events queued on
      // it) is still there once our clock offset is right again.
      subscriptionGone = !(err.isNotAuthorized && this.sub);
      reason = this.sub ? 'subscription_gone' : 'subscribe_refused';
      if (err.isNotAuthorized) {
        reason = 'auth_refused';
        await this.hooks
          .onNotAuthorized()
          .catch((e: unknown) => this.logger.warn({ err: errorMessage(e) }, 'clock re-measure failed'));
      }
      // It died before we renewed and the camera never said its lease: assume that lifetime from now on.
      const age = this.now() - this.leaseFrom;
      if (this.sub && this.stats.grantedLeaseMs === null && age < t.leaseSec * 1000 && age > 0) {
        this.observedLeaseMs = Math.min(this.observedLeaseMs ?? Infinity, age);
      }
    } else {
      this.lastFailureWasTransport = true;
      // Unreachable past the lease's end: it expired on the camera, so do not keep using it.
      if (this.sub && this.now() >= this.expiresAt) subscriptionGone = true;
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
    if (subscriptionGone) await this.dropSubscription(reason);
    else this.setSubscribed(false, reason);
    this.wake = new AbortController();
    await sleep(delay, AbortSignal.any([this.abort.signal, this.wake.signal]));
    this.wake = null;
  }

  /**
   * Something else (the clock check, a health probe) got an answer from the camera: if we are waiting out a backoff
   * built up while it was unreachable, stop waiting; it is back.
   */
  deviceAnswered(): void {
    if (!this.lastFailureWasTransport) return;
    this.lastFailureWasTransport = false;
    this.backoff.reset();
    this.wake?.abort();
  }

  /** No events here: say so, and look again rarely (a firmware update or a reconfiguration may add them). */
  private async notSupported(err: unknown): Promise<void> {
    if (!this.stats.eventsNotSupported) {
      this.logger.warn(
        { err: errorMessage(err), retryInSec: this.timings.eventsProbeSec },
        'camera has no working PullPoint events; asking again rarely',
      );
    }
    this.stats.eventsNotSupported = true;
    this.lastFailureWasTransport = false;
    this.backoff.reset();
    this.setSubscribed(false, 'events_not_supported');
    await sleep(this.timings.eventsProbeSec * 1000, this.abort.signal);
    if (this.stopping) return;
    await this.hooks
      .onEventsNotSupported?.()
      .catch((e: unknown) => this.logger.debug({ err: errorMessage(e) }, 'events re-check failed'));
  }

  /** Best-effort Unsubscribe so a camera with few subscription slots never fills up with our leftovers. */
  private async dropSubscription(reason: UnsubscribedReason): Promise<void> {
    const sub = this.sub;
    this.sub = null;
    this.setSubscribed(false, reason);
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
    await this.dropSubscription('not_started');
  }
}
