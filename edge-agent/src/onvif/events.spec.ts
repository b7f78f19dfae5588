import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { CameraTimeoutError, SoapFaultError } from '../errors.js';
import { notificationsOf, type PullPointTransport, PullPointSupervisor, type Subscription } from './events.js';
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
  async create(): Promise<Subscription> {
    this.created += 1;
    const sub = { address: `http://cam/sub/${this.created}`, referenceParameters: '' };
    this.live.add(sub.address);
    return sub;
  }
  async setSynchronizationPoint(): Promise<void> {
    throw new SoapFaultError('SetSynchronizationPoint', 'ter:ActionNotSupported', 'not implemented', 500);
  }
  async pull(sub: Subscription) {
    this.pulls += 1;
    const step = this.script.shift();
    if (step) await step();
    if (!this.live.has(sub.address)) throw new SoapFaultError('PullMessages', 'wsrf:ResourceUnknown', 'gone', 400);
    await new Promise((r) => setTimeout(r, 1));
    // No CurrentTime/TerminationTime, as some firmware does.
    return { notifications: [] };
  }
  async renew(): Promise<void> {
    this.renewed += 1;
    if (this.renewFault) throw new SoapFaultError('Renew', 'wsnt:UnacceptableTerminationTimeFault', 'no', 400);
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
    const t = new FakeTransport();
    const sup = new PullPointSupervisor(t, timings, hooks(), logger);
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
    await until(() => remeasured === 1 && t.created === 2);
    await sup.stop();
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
