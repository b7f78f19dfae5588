import fp from 'fastify-plugin';
import { createLiveFeed, type LiveFeed } from './live-feed.js';
import { createStreamRegistry, type StreamRegistry } from './stream-registry.js';

declare module 'fastify' {
  interface FastifyInstance {
    live: LiveFeed;
    /** Open live streams per user and session, across hubs (the caps). */
    liveStreams: StreamRegistry;
  }
}

/**
 * Feeds the live stream: new events, camera status changes and alert changes, each appended once to the shared
 * Redis stream by the process that learned it. Publishing failures are logged: the live view is best effort,
 * the stored data is not.
 */
export default fp(
  async (app) => {
    const feed = createLiveFeed({
      redis: app.redis,
      reader: app.redisConnection(),
      key: `${app.config.QUEUE_PREFIX}:live`,
      maxLen: app.config.LIVE_BUFFER_SIZE,
      idleGraceMs: app.config.LIVE_IDLE_GRACE_SEC * 1000,
      onError: (err) => app.log.warn({ err: err.message }, 'live feed error'),
    });
    const publish = (items: Parameters<LiveFeed['publish']>[0]) => {
      feed.publish(items).catch((err: Error) => app.log.warn({ err: err.message }, 'live publish failed'));
    };
    app.container.bus.on('events.stored', (events) => {
      if (feed.wanted) publish(events.map((e) => ({ kind: 'event', site: e.site, data: e })));
    });
    app.container.bus.on('camera.status', (c) => publish([{ kind: 'camera', site: c.site, data: c }]));
    app.container.bus.on('alert.change', (c) =>
      publish([
        {
          kind: 'alert',
          site: c.alert.site,
          data: {
            action: c.action,
            actor: c.actor,
            at: c.at,
            note: c.note ?? null,
            data: c.data ?? null,
            alert: c.alert,
          },
        },
      ]),
    );
    feed.start();
    app.decorate('live', feed);
    app.decorate(
      'liveStreams',
      createStreamRegistry({
        redis: app.redis,
        prefix: app.config.QUEUE_PREFIX,
        // Three missed heartbeats: the hub holding the stream is gone.
        ttlMs: app.config.LIVE_HEARTBEAT_SEC * 3000,
      }),
    );
    // SSE responses never end by themselves; close them before the server waits for open connections.
    app.addHook('preClose', async () => {
      await feed.stop();
    });
  },
  { name: 'live', dependencies: ['config', 'redis'] },
);
