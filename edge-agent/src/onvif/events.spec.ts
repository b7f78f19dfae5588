import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { CameraTimeoutError, SoapFaultError } from '../errors.js';
import {
  type Created,
  notificationsOf,
  type PullPointTransport,
  PullPointSupervisor,
  type Subscription,
} from './events.js';
import type { LeaseTimes } from './lease.js';
import { parseXml } from './soap.js';

const logger = pino({ level: 'silent' });
const timings = {
  requestTimeoutMs: 50,
  pullTimeoutSec: 1,
  messageLimit: 100,
  leaseSec: 600,
  renewSec: 480,
  backoffMinMs: 5,
  backoffMaxMs: 20,
  eventsProbeSec: 600,
};

/** A fake camera: each pull runs the next scripted step (or returns nothing). Counts what a real camera would. */
class FakeTransport implements PullPointTransport {
  live = new Set<string>();
  created = 0;
  renewed = 0;
  unsubscribed = 0;
  pulls = 0;
  script: Array<() => Promise<unknown>> = [];
  renewFault = false;
  grant: LeaseTimes = {};
  pullTimeouts: number[] = [];
  onPull: () => void = () => undefined;
  createError: Error | null = null;
  createCalls = 0;
  /** A camera that forgets a subscription this long after its create/renew without saying so. */
  expireAfterMs: number | null = null;
  clock: () => number = Date.now;
  private leaseStart = new Map<string, number>();
  async create(): Promise<Created> {
    this.createCalls += 1;
    if (this.createError) throw this.createError;
    this.created += 1;
    const sub = { address: `http://cam/sub/${this.created}`, referenceParameters: '' };
    this.live.add(sub.address);
    this.leaseStart.set(sub.address, this.clock());
    return { subscription: sub, ...this.grant };
  }
  async setSynchronizationPoint(): Promise<void> {
    throw new SoapFaultError('SetSynchronizationPoint', 'ter:ActionNotSupported', 'not implemented', 500);
  }
  async pull(sub: Subscription, pullTimeoutSec: number) {
    this.pulls += 1;
    this.pullTimeouts.push(pullTimeoutSec);
    this.onPull();
    const step = this.script.shift();
    if (step) await step();
    if (this.expireAfterMs !== null && this.clock() - this.leaseStart.get(sub.address)! > this.expireAfterMs) {
      this.live.delete(sub.address);
    }
    if (!this.live.has(sub.address)) throw new SoapFaultError('PullMessages', 'wsrf:ResourceUnknown', 'gone', 400);
    await new Promise((r) => setTimeout(r, 1));
    // No CurrentTime/TerminationTime, as some firmware does.
    return { notifications: [] };
  }
  async renew(sub: Subscription): Promise<LeaseTimes> {
    this.renewed += 1;
    if (!this.live.has(sub.address)) throw new SoapFaultError('Renew', 'wsrf:ResourceUnknown', 'gone', 400);
    this.leaseStart.set(sub.address, this.clock());
    if (this.renewFault) throw new SoapFaultError('Renew', 'wsnt:UnacceptableTerminationTimeFault', 'no', 400);
    return this.grant;
  }
  async unsubscribe(sub: Subscription): Promise<void> {
    this.unsubscribed += 1;
    this.live.delete(sub.address);
  }
}

const until = async (cond: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
};

const hooks = () => ({ onNotifications: () => undefined, onNotAuthorized: async () => undefined });

describe(PullPointSupervisor.name, () => {
  it('keeps one subscription across hundreds of pulls without CurrentTime/TerminationTime (no re-create storm)', async () => {
    let now = 0;
    const t = new FakeTransport();
    // A camera that holds every pull for its timeout.
    t.script = Array.from({ length: 200 }, () => async () => void (now += 1000));
    const sup = new PullPointSupervisor(t, timings, hooks(), logger, () => now);
    sup.start();
    await until(() => t.pulls >= 200);
    expect(t.created).toBe(1);
    expect(t.renewed).toBe(0);
    await sup.stop();
    expect(t.live.size).toBe(0);
    expect(t.unsubscribed).toBe(1);
  });

  it('renews on its own schedule, not more often', async () => {
    let now = 0;
    const t = new FakeTransport();
    t.script = Array.from({ length: 50 }, () => async () => {
      now += 60_000; // each pull "takes" a minute
    });
    const sup = new PullPointSupervisor(t, timings, hooks(), logger, () => now);
    sup.start();
    await until(() => t.pulls >= 50);
    await sup.stop();
    // ≈50 minutes of pulls with renew every 8 minutes.
    expect(t.renewed).toBeGreaterThanOrEqual(5);
    expect(t.renewed).toBeLessThanOrEqual(7);
    expect(t.created).toBe(1);
  });

  it('re-creates after a SOAP fault, unsubscribing the old one first: never two live subscriptions', async () => {
    const t = new FakeTransport();
    t.script = [async () => t.live.clear()]; // camera rebooted: subscription gone
    const sup = new PullPointSupervisor(t, timings, hooks(), logger);
    sup.start();
    await until(() => t.created === 2 && t.pulls > 3);
    expect(t.live.size).toBe(1);
    await sup.stop();
    expect(t.live.size).toBe(0);
  });

  it('a hanging pull times out and the loop goes on with backoff', async () => {
    const t = new FakeTransport();
    t.script = [
      async () => {
        throw new CameraTimeoutError('PullMessages', 50);
      },
      async () => {
        throw new CameraTimeoutError('PullMessages', 50);
      },
    ];
    const sup = new PullPointSupervisor(t, timings, hooks(), logger);
    sup.start();
    await until(() => t.pulls > 5);
    // A timeout is not a fault: the subscription is kept while its lease lasts.
    expect(t.created).toBe(1);
    expect(sup.stats.failures).toBe(2);
    expect(sup.stats.subscribed).toBe(true);
    await sup.stop();
  });

  it('a fault on renew re-creates the subscription', async () => {
    let now = 0;
    const t = new FakeTransport();
    t.renewFault = true;
    t.script = Array.from({ length: 20 }, () => async () => {
      now += 60_000;
    });
    const sup = new PullPointSupervisor(t, timings, hooks(), logger, () => now);
    sup.start();
    await until(() => t.pulls >= 20);
    await sup.stop();
    expect(t.renewed).toBeGreaterThanOrEqual(1);
    expect(t.created).toBe(t.renewed + 1);
    expect(t.live.size).toBe(0);
  });

  it('asks for a clock re-measure when WS-Security is refused', async () => {
    const t = new FakeTransport();
    let remeasured = 0;
    t.script = [
      async () => {
        throw new SoapFaultError('PullMessages', 's:Sender/ter:NotAuthorized', 'Sender not Authorized', 400);
      },
    ];
    const sup = new PullPointSupervisor(
      t,
      timings,
      { onNotifications: () => undefined, onNotAuthorized: async () => void (remeasured += 1) },
      logger,
    );
    sup.start();
    await until(() => remeasured === 1 && t.pulls >= 3);
    // The camera refused our token, not the subscription: it is kept (with the events queued on it).
    expect(t.created).toBe(1);
    await sup.stop();
  });
});

describe('PullPointSupervisor and what the camera grants', () => {
  it('renews at 70 % of a shorter lease the camera granted, not after our own 480 s', async () => {
    let now = 0;
    const t = new FakeTransport();
    t.grant = { currentTime: '2026-11-25T10:00:00Z', terminationTime: '2026-11-25T10:02:00Z' }; // 120 s
    t.script = Array.from({ length: 60 }, () => async () => void (now += 10_000));
    const sup = new PullPointSupervisor(t, timings, hooks(), logger, () => now);
    sup.start();
    await until(() => t.pulls >= 60);
    await sup.stop();
    // 600 s of pulls, renew every 84 s.
    expect(sup.stats.grantedLeaseMs).toBe(120_000);
    expect(t.renewed).toBeGreaterThanOrEqual(6);
    expect(t.renewed).toBeLessThanOrEqual(8);
    expect(t.created).toBe(1);
    // No pull is held past the renew point: every requested Timeout fits before it.
    expect(Math.max(...t.pullTimeouts)).toBeLessThanOrEqual(1);
  });

  it('a camera that ignores InitialTerminationTime and grants 10 s: pulls are shortened to fit the lease', async () => {
    let now = 0;
    const t = new FakeTransport();
    t.grant = { currentTime: '2026-11-25T10:00:00Z', terminationTime: '2026-11-25T10:00:10Z' };
    t.script = Array.from({ length: 40 }, (_, i) => async () => void (now += (t.pullTimeouts[i] ?? 1) * 1000));
    const sup = new PullPointSupervisor(t, { ...timings, pullTimeoutSec: 60 }, hooks(), logger, () => now);
    sup.start();
    await until(() => t.pulls >= 40);
    await sup.stop();
    expect(Math.max(...t.pullTimeouts)).toBeLessThanOrEqual(7);
    expect(t.created).toBe(1);
    expect(t.renewed).toBeGreaterThanOrEqual(Math.floor(now / 7000) - 1);
  });

  it('learns the lifetime of a subscription that dies without a TerminationTime and renews before it', async () => {
    let now = 0;
    const t = new FakeTransport();
    t.expireAfterMs = 120_000; // says nothing, forgets after 120 s unless renewed
    t.clock = () => now;
    t.script = Array.from({ length: 80 }, () => async () => void (now += 10_000));
    const sup = new PullPointSupervisor(t, timings, hooks(), logger, () => now);
    sup.start();
    await until(() => t.pulls >= 80);
    await sup.stop();
    // One loss to learn from, then renewals in time (the first learned lifetime is 120-130 s).
    expect(t.created).toBe(2);
    expect(sup.stats.recreated).toBe(1);
    expect(t.renewed).toBeGreaterThanOrEqual(5);
  });

  it('paces a camera that answers PullMessages at once: at most one pull per 100 ms, backing off while empty', async () => {
    const t = new FakeTransport();
    const starts: number[] = [];
    t.onPull = () => starts.push(Date.now());
    const sup = new PullPointSupervisor(t, timings, hooks(), logger);
    sup.start();
    await new Promise((r) => setTimeout(r, 2000));
    await sup.stop();
    const gaps = starts.slice(1).map((s, i) => s - starts[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(95);
    // 100, 200, 400, 800, then every second: ~6 pulls in 2 s instead of thousands.
    expect(starts.length).toBeLessThanOrEqual(8);
    expect(sup.stats.earlyEmptyPulls).toBeGreaterThanOrEqual(3);
  });

  it('resets the backoff as soon as the camera answers, even with a fault', async () => {
    const t = new FakeTransport();
    let faultAt = 0;
    t.script = [
      ...Array.from({ length: 6 }, () => async () => {
        throw new CameraTimeoutError('PullMessages', 1);
      }),
      async () => {
        faultAt = Date.now();
        t.live.clear(); // the camera restarted: its first answer is a fault
      },
    ];
    let createdAt = 0;
    const sup = new PullPointSupervisor(
      t,
      { ...timings, backoffMinMs: 10, backoffMaxMs: 400 },
      { ...hooks(), onSubscription: (s) => void (s && t.created === 2 && (createdAt = Date.now())) },
      logger,
      Date.now,
    );
    // Deterministic: without a reset, the 7th delay would be up to 400 ms.
    (sup as unknown as { backoff: { random: () => number } }).backoff.random = () => 1;
    sup.start();
    await until(() => createdAt > 0, 5000);
    await sup.stop();
    expect(createdAt - faultAt).toBeLessThan(100);
  });

  it('health reasons: unreachable while pulls fail, events_not_supported when PullPoint is not implemented', async () => {
    const t = new FakeTransport();
    t.createError = new SoapFaultError('CreatePullPointSubscription', 's:Receiver/ter:ActionNotSupported', '', 500);
    const sup = new PullPointSupervisor(t, timings, hooks(), logger);
    expect(sup.stats.unsubscribedReason).toBe('not_started');
    sup.start();
    await until(() => sup.stats.eventsNotSupported);
    await new Promise((r) => setTimeout(r, 100));
    expect(t.createCalls).toBe(1); // asked again only after eventsProbeSec
    expect(sup.stats).toMatchObject({ subscribed: false, unsubscribedReason: 'events_not_supported' });
    await sup.stop();

    const u = new FakeTransport();
    u.script = Array.from({ length: 50 }, () => async () => {
      throw new CameraTimeoutError('PullMessages', 1);
    });
    const sup2 = new PullPointSupervisor(u, timings, hooks(), logger);
    sup2.start();
    await until(() => u.pulls >= 2);
    expect(sup2.stats).toMatchObject({ subscribed: false, unsubscribedReason: 'camera_unreachable' });
    expect(sup2.stats.unsubscribedSince).not.toBeNull();
    await sup2.stop();
  });

  it('tells when a subscription is synchronised, and whether it replaced one (state may have been lost)', async () => {
    const t = new FakeTransport();
    t.script = [async () => undefined, async () => t.live.clear()];
    const seen: boolean[] = [];
    const sup = new PullPointSupervisor(
      t,
      timings,
      { ...hooks(), onSynchronised: (recreated) => void seen.push(recreated) },
      logger,
    );
    sup.start();
    await until(() => seen.length === 2);
    await sup.stop();
    expect(seen).toEqual([false, true]);
    expect(sup.stats.recreated).toBe(1);
  });
});

describe('notificationsOf', () => {
  it('parses one or several NotificationMessages into the parser-neutral shape', () => {
    const xml =
      '<s:Envelope xmlns:s="x"><s:Body><tev:PullMessagesResponse xmlns:tev="y" xmlns:wsnt="z" xmlns:tt="t">' +
      '<wsnt:NotificationMessage><wsnt:Topic Dialect="d"> tns1:VideoSource/MotionAlarm </wsnt:Topic>' +
      '<wsnt:Message><tt:Message UtcTime="2026-11-22T14:05:09.120Z" PropertyOperation="Changed">' +
      '<tt:Source><tt:SimpleItem Name="Source" Value="vs1"/></tt:Source>' +
      '<tt:Data><tt:SimpleItem Name="State" Value="true"/></tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>' +
      '</tev:PullMessagesResponse></s:Body></s:Envelope>';
    const body = (parseXml(xml).Envelope as Record<string, unknown>).Body as Record<string, unknown>;
    const [n] = notificationsOf(body.PullMessagesResponse);
    expect(n).toMatchObject({ utcTime: '2026-11-22T14:05:09.120Z', propertyOperation: 'Changed' });
    expect(n!.data).toEqual({ simpleItem: [{ Name: 'State', Value: 'true' }] });
  });
});
