import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { EventsNotSupportedError, SoapFaultError } from '../errors.js';
import { BaseNotificationTransport, FallbackTransport, NotificationServer } from './base-notification.js';
import type { Created, PullPointTransport } from './events.js';
import { normalise, type RawNotification } from './normalise.js';

const logger = pino({ level: 'silent' });
const NOTIFY =
  '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2"' +
  ' xmlns:tt="http://www.onvif.org/ver10/schema"><s:Body><wsnt:Notify><wsnt:NotificationMessage>' +
  '<wsnt:Topic>tns1:RuleEngine/CellMotionDetector/Motion</wsnt:Topic><wsnt:Message>' +
  '<tt:Message UtcTime="2026-11-25T10:00:00Z" PropertyOperation="Changed"><tt:Data>' +
  '<tt:SimpleItem Name="IsMotion" Value="true"/></tt:Data></tt:Message></wsnt:Message>' +
  '</wsnt:NotificationMessage></wsnt:Notify></s:Body></s:Envelope>';

const base = () =>
  new BaseNotificationTransport(
    () => 'http://cam/onvif/events_service',
    'cam-1',
    { username: 'u', password: 'p' },
    () => 0,
    (a) => a,
    'http://agent:8089/onvif/notify/cam-1/x',
  );

describe(NotificationServer.name, () => {
  it('hands a camera its Notify messages on its own path; other paths are 404, garbage is 400', async () => {
    const server = new NotificationServer(logger);
    await server.listen('127.0.0.1', 0);
    const port = (server as unknown as { server: { address(): { port: number } } }).server.address().port;
    const got: RawNotification[] = [];
    const path = server.register('cam-1', (list) => got.push(...list));
    expect(path).toMatch(/^\/onvif\/notify\/cam-1\/[0-9a-f]{24}$/);
    const post = (p: string, body: string) =>
      fetch(`http://127.0.0.1:${port}${p}`, { method: 'POST', body }).then((r) => r.status);
    expect(await post(path, NOTIFY)).toBe(200);
    expect(got).toHaveLength(1);
    expect(normalise(got[0]!)).toMatchObject({
      type: 'motion',
      active: true,
      topic: 'tns1:RuleEngine/CellMotionDetector/Motion',
    });
    expect(await post('/onvif/notify/cam-1/guess', NOTIFY)).toBe(404);
    expect(await post(path, '<not xml')).toBe(400);
    await server.close();
  });
});

describe(BaseNotificationTransport.name, () => {
  it('a pull returns what was pushed at once, and holds for the timeout when nothing was', async () => {
    const t = base();
    const sub = { address: 'http://cam/sub/1', referenceParameters: '' };
    const signal = new AbortController().signal;
    t.deliver([{ topic: 'a' }, { topic: 'b' }]);
    expect((await t.pull(sub, 1, 1, 0, signal)).notifications).toEqual([{ topic: 'a' }]);
    expect((await t.pull(sub, 1, 10, 0, signal)).notifications).toEqual([{ topic: 'b' }]);
    const started = Date.now();
    const waiting = t.pull(sub, 1, 10, 0, signal);
    setTimeout(() => t.deliver([{ topic: 'c' }]), 50);
    expect((await waiting).notifications).toEqual([{ topic: 'c' }]);
    expect(Date.now() - started).toBeLessThan(900);
    const empty = Date.now();
    expect((await t.pull(sub, 1, 10, 0, signal)).notifications).toEqual([]);
    expect(Date.now() - empty).toBeGreaterThanOrEqual(950);
  });
});

describe(FallbackTransport.name, () => {
  const created: Created = { subscription: { address: 'http://cam/base/1', referenceParameters: '' } };
  const pullPoint = (err: Error): PullPointTransport => ({
    create: () => Promise.reject(err),
    setSynchronizationPoint: () => Promise.resolve(),
    pull: () => Promise.resolve({ notifications: [] }),
    renew: () => Promise.resolve({}),
    unsubscribe: () => Promise.resolve(),
  });

  it('switches to base notification when PullPoint is not implemented, and stays there', async () => {
    const b = base();
    let subscribes = 0;
    b.create = () => Promise.resolve(void (subscribes += 1)).then(() => created);
    const notImplemented = new SoapFaultError(
      'CreatePullPointSubscription',
      's:Receiver/ter:ActionNotSupported',
      '',
      500,
    );
    const f = new FallbackTransport(pullPoint(notImplemented), b, logger);
    expect(f.mode).toBe('pullpoint');
    expect(await f.create(60, 100)).toBe(created);
    expect(f.mode).toBe('base_notification');
    await f.create(60, 100);
    expect(subscribes).toBe(2);
  });

  it('other failures, no events service at all, or no endpoint configured: no fallback', async () => {
    const b = base();
    const gone = new SoapFaultError('CreatePullPointSubscription', 'ter:OutOfResources', 'full', 500);
    await expect(new FallbackTransport(pullPoint(gone), b, logger).create(60, 100)).rejects.toBe(gone);
    const none = new EventsNotSupportedError('cam-1');
    await expect(new FallbackTransport(pullPoint(none), b, logger).create(60, 100)).rejects.toBe(none);
    const ni = new SoapFaultError('CreatePullPointSubscription', 'ter:ActionNotSupported', '', 500);
    await expect(new FallbackTransport(pullPoint(ni), null, logger).create(60, 100)).rejects.toBe(ni);
  });
});
