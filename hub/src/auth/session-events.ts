import type { Redis } from 'ioredis';

/** Something that ends a user's long-lived responses (live feeds): their scope or their right to it changed. */
export interface SessionChange {
  userId: string;
  /** Only this session (a logout); absent: every session of the user. */
  sessionId?: string;
  reason: 'logout' | 'disabled' | 'roles' | 'sites' | 'password';
}

type Watcher = (change: SessionChange) => void;

/**
 * Session changes published to every hub through Redis pub/sub, so a logout, a disabled user or new roles or sites
 * close that user's open streams on every hub at once, not at their next heartbeat. Each hub keeps its own watchers.
 */
export function createSessionEvents(deps: { publisher: Redis; channel: string; onError: (err: Error) => void }) {
  let subscriber: Redis | null = null;
  const watchers = new Map<string, Set<{ sessionId: string; fn: Watcher }>>();

  const dispatch = (change: SessionChange) => {
    for (const w of watchers.get(change.userId) ?? []) {
      if (!change.sessionId || change.sessionId === w.sessionId) w.fn(change);
    }
  };

  const onMessage = (channel: string, message: string) => {
    if (channel !== deps.channel) return;
    try {
      dispatch(JSON.parse(message) as SessionChange);
    } catch (err) {
      deps.onError(err as Error);
    }
  };

  return {
    /** Starts receiving every hub's changes on `connection`, dedicated to it (a subscribed connection does nothing else). */
    async listen(connection: Redis) {
      subscriber = connection;
      connection.on('message', onMessage);
      await connection.subscribe(deps.channel);
    },

    async publish(change: SessionChange): Promise<void> {
      await deps.publisher.publish(deps.channel, JSON.stringify(change));
    },

    /** Calls `fn` when the session (or its user as a whole) changes; returns the unwatch function. */
    watch(userId: string, sessionId: string, fn: Watcher): () => void {
      let set = watchers.get(userId);
      if (!set) watchers.set(userId, (set = new Set()));
      const w = { sessionId, fn };
      set.add(w);
      return () => {
        set.delete(w);
        if (set.size === 0) watchers.delete(userId);
      };
    },

    async close() {
      watchers.clear();
      await subscriber?.unsubscribe(deps.channel).catch((err: Error) => deps.onError(err));
      subscriber?.off('message', onMessage);
      subscriber = null;
    },
  };
}
export type SessionEvents = ReturnType<typeof createSessionEvents>;
/** What services need of it: publishing only. */
export type SessionPublisher = Pick<SessionEvents, 'publish'>;
