import { SITE_CONFIG_QOS, siteConfigTopic } from '@camhub/shared';
import { Queue, Worker } from 'bullmq';
import fp from 'fastify-plugin';
import type { MqttClient } from 'mqtt';
import { UnavailableError } from '../errors.js';
import { lazyMqttPublisher } from '../plugins/mqtt-publisher.js';

export const SITE_CONFIG_QUEUE = 'site-config';
/** A publication waits this long for the broker before the job is retried. */
const CONNECT_WAIT_MS = 10_000;

/**
 * Delivers each site's desired camera configuration to its agent: a durable BullMQ job per change publishes the
 * whole configuration, retained, on `{root}/{site}/config` (the broker ACL lets only the hub write it and only that
 * site's agent read it). Every configured site is published again when a hub starts, in case the broker lost its
 * retained messages.
 */
export default fp<{ work?: boolean }>(
  async (app, opts) => {
    const cfg = app.config;
    const registry = app.container.services.registry;
    const queue = new Queue<{ site: string }>(SITE_CONFIG_QUEUE, {
      connection: app.redisConnection(),
      prefix: cfg.QUEUE_PREFIX,
      defaultJobOptions: {
        attempts: 1_000_000,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: true,
        removeOnFail: { count: 100 },
      },
    });
    queue.on('error', (err) => app.log.warn({ err: err.message }, 'site-config queue error'));
    registry.setPublisher(async (site) => {
      await queue.add('publish', { site });
    });

    const publisher = lazyMqttPublisher(cfg, { role: 'config', label: 'site-config', log: app.log });
    const connected = async (): Promise<MqttClient> => {
      const c = publisher.client();
      if (c.connected) return c;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          c.off('connect', onConnect);
          reject(new UnavailableError('the broker does not answer', 'mqtt_unavailable'));
        }, CONNECT_WAIT_MS);
        const onConnect = () => {
          clearTimeout(timer);
          resolve();
        };
        c.once('connect', onConnect);
      });
      return c;
    };

    let worker: Worker<{ site: string }> | null = null;
    if (opts.work ?? true) {
      worker = new Worker<{ site: string }>(
        SITE_CONFIG_QUEUE,
        async (job) => {
          // Always the latest: a job queued for an older change publishes the newest configuration.
          const config = await registry.desiredConfig(job.data.site);
          if (!config) return;
          const c = await connected();
          await c.publishAsync(siteConfigTopic(config.site, cfg.MQTT_TOPIC_ROOT), JSON.stringify(config), {
            qos: SITE_CONFIG_QOS.qos,
            retain: SITE_CONFIG_QOS.retain,
          });
          await registry.markPublished(config.site, config.version);
          app.log.info({ site: config.site, version: config.version }, 'site configuration published');
        },
        { connection: app.redisConnection(), prefix: cfg.QUEUE_PREFIX, concurrency: 1 },
      );
      worker.on('error', (err) => app.log.warn({ err: err.message }, 'site-config worker error'));
      worker.on('failed', (job, err) =>
        app.log.warn({ site: job?.data.site, err: err.message }, 'site configuration not published yet'),
      );
      app.addHook('onReady', async () => {
        const sites = await registry.configuredSites();
        if (sites.length) await queue.addBulk(sites.map((site) => ({ name: 'publish', data: { site } })));
      });
    }

    app.addHook('onClose', async () => {
      await worker?.close();
      await queue.close();
      await publisher.end();
    });
  },
  { name: 'site-config', dependencies: ['config', 'pg', 'redis'] },
);
