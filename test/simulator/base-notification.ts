import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { type Notification } from './event-topics.js';

/** A WS-BaseNotification subscription: the camera POSTs `wsnt:Notify` to the client's consumer address. */
export interface BaseSubscription {
  readonly id: string;
  readonly consumer: string;
  /** Host epoch ms at which the lease ends. */
  expiresAt: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The camera's base-notification subscriptions (ONVIF Core 9.1 / WS-BaseNotification `Subscribe`): what firmware
 * with a broken PullPoint still offers, and what Home Assistant uses. Notifications are pushed once each, best
 * effort, as real cameras do: a consumer that does not answer 2xx loses that message.
 */
export class BaseNotificationRegistry {
  private readonly subscriptions = new Map<string, BaseSubscription>();
  /** Notify requests answered 2xx by the consumer, and the messages they carried that were `Changed`. */
  delivered = 0;
  changesDelivered = 0;
  created = 0;

  constructor(private readonly log: (message: string) => void) {}

  get size(): number {
    return this.subscriptions.size;
  }

  create(consumer: string, leaseMs: number): BaseSubscription {
    const subscription: BaseSubscription = { id: randomUUID(), consumer, expiresAt: 0, timer: undefined };
    this.subscriptions.set(subscription.id, subscription);
    this.created += 1;
    this.renew(subscription, leaseMs);
    return subscription;
  }

  get(id: string): BaseSubscription | undefined {
    return this.subscriptions.get(id);
  }

  renew(subscription: BaseSubscription, leaseMs: number): void {
    subscription.expiresAt = Date.now() + leaseMs;
    clearTimeout(subscription.timer);
    subscription.timer = setTimeout(() => this.remove(subscription), leaseMs);
    subscription.timer.unref();
  }

  remove(subscription: BaseSubscription): void {
    clearTimeout(subscription.timer);
    this.subscriptions.delete(subscription.id);
  }

  removeAll(): void {
    for (const s of [...this.subscriptions.values()]) this.remove(s);
  }

  /** POSTs one Notify per subscription; `render` gives the NotificationMessage XML for a subscription. */
  publish(notification: Notification, render: (subscription: BaseSubscription) => string): void {
    for (const subscription of this.subscriptions.values()) {
      const body =
        '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"' +
        ' xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:wsa="http://www.w3.org/2005/08/addressing"' +
        ' xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:tns1="http://www.onvif.org/ver10/topics">' +
        '<s:Header><wsa:Action>http://docs.oasis-open.org/wsn/bw-2/NotificationConsumer/Notify</wsa:Action>' +
        `</s:Header><s:Body><wsnt:Notify>${render(subscription)}</wsnt:Notify></s:Body></s:Envelope>`;
      const req = request(
        subscription.consumer,
        {
          method: 'POST',
          headers: { 'Content-Type': 'application/soap+xml; charset=utf-8', 'Content-Length': Buffer.byteLength(body) },
          timeout: 5000,
        },
        (res) => {
          res.resume();
          if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) {
            this.delivered += 1;
            if (notification.propertyOperation === 'Changed') this.changesDelivered += 1;
          } else this.log(`Notify to ${subscription.consumer} answered HTTP ${res.statusCode}`);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (error) => this.log(`Notify to ${subscription.consumer} failed: ${error.message}`));
      req.end(body);
    }
  }
}
