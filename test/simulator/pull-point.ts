import { randomUUID } from 'node:crypto';
import { type Notification } from './event-topics.js';

/** A waiting PullMessages call. */
interface Waiter {
  limit: number;
  resolve: (outcome: PullOutcome) => void;
  timer: NodeJS.Timeout;
}

export type PullOutcome = { kind: 'messages'; messages: Notification[] } | { kind: 'gone' };

export class PullPointSubscription {
  readonly id = randomUUID();
  readonly queue: Notification[] = [];
  readonly waiters = new Set<Waiter>();
  /** Real (host) epoch milliseconds at which the lease ends; shown to clients on the camera clock. */
  expiresAt: number;
  expiryTimer: NodeJS.Timeout | undefined;

  constructor(leaseMs: number) {
    this.expiresAt = Date.now() + leaseMs;
  }
}

export interface PullPointOptions {
  maxSubscriptions: number;
  /** Per-subscription queue bound; the oldest messages go first, as on a camera with a small event buffer. */
  maxQueuedMessages: number;
}

/**
 * The camera's PullPoint subscriptions. Leases run on real time (durations), so a skewed camera clock shifts the
 * reported times but not how long a subscription lives. A PullMessages call does NOT extend the lease (like Axis):
 * clients must Renew.
 */
export class PullPointRegistry {
  private readonly subscriptions = new Map<string, PullPointSubscription>();

  constructor(private readonly options: PullPointOptions) {}

  get size(): number {
    return this.subscriptions.size;
  }

  isFull(): boolean {
    return this.subscriptions.size >= this.options.maxSubscriptions;
  }

  create(leaseMs: number): PullPointSubscription {
    const subscription = new PullPointSubscription(leaseMs);
    this.subscriptions.set(subscription.id, subscription);
    this.scheduleExpiry(subscription);
    return subscription;
  }

  get(id: string): PullPointSubscription | undefined {
    return this.subscriptions.get(id);
  }

  all(): PullPointSubscription[] {
    return [...this.subscriptions.values()];
  }

  renew(subscription: PullPointSubscription, leaseMs: number): void {
    subscription.expiresAt = Date.now() + leaseMs;
    this.scheduleExpiry(subscription);
  }

  remove(subscription: PullPointSubscription): void {
    clearTimeout(subscription.expiryTimer);
    this.subscriptions.delete(subscription.id);
    for (const waiter of subscription.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve({ kind: 'gone' });
    }
    subscription.waiters.clear();
  }

  removeAll(): void {
    for (const subscription of this.all()) this.remove(subscription);
  }

  /** Queues a notification on every live subscription and wakes their waiting pulls. */
  publish(notification: Notification): void {
    for (const subscription of this.subscriptions.values()) this.enqueue(subscription, notification);
  }

  enqueue(subscription: PullPointSubscription, notification: Notification): void {
    subscription.queue.push(notification);
    if (subscription.queue.length > this.options.maxQueuedMessages) subscription.queue.shift();
    for (const waiter of [...subscription.waiters]) {
      if (subscription.queue.length === 0) break;
      this.settle(subscription, waiter, { kind: 'messages', messages: subscription.queue.splice(0, waiter.limit) });
    }
  }

  /**
   * Long-poll: answers at once when messages are queued (at most `limit`), else when one arrives, else with
   * nothing after `timeoutMs`. `signal` aborts when the client hangs up, so abandoned polls do not steal messages.
   */
  pull(
    subscription: PullPointSubscription,
    timeoutMs: number,
    limit: number,
    signal: AbortSignal,
  ): Promise<PullOutcome> {
    if (subscription.queue.length > 0) {
      return Promise.resolve({ kind: 'messages', messages: subscription.queue.splice(0, limit) });
    }
    return new Promise((resolve) => {
      const waiter: Waiter = {
        limit,
        resolve,
        timer: setTimeout(() => this.settle(subscription, waiter, { kind: 'messages', messages: [] }), timeoutMs),
      };
      subscription.waiters.add(waiter);
      signal.addEventListener('abort', () => this.settle(subscription, waiter, { kind: 'messages', messages: [] }), {
        once: true,
      });
    });
  }

  private settle(subscription: PullPointSubscription, waiter: Waiter, outcome: PullOutcome): void {
    if (!subscription.waiters.delete(waiter)) return;
    clearTimeout(waiter.timer);
    waiter.resolve(outcome);
  }

  private scheduleExpiry(subscription: PullPointSubscription): void {
    clearTimeout(subscription.expiryTimer);
    subscription.expiryTimer = setTimeout(
      () => this.remove(subscription),
      Math.max(0, subscription.expiresAt - Date.now()),
    );
    subscription.expiryTimer.unref();
  }
}
