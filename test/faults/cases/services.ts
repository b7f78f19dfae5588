import { sleep, waitFor } from '../../support/wait.js';
import type { FaultCase } from '../support/case.js';
import { runLoadWithFault } from '../support/scenario.js';
import { type Stack, startStack } from '../support/stack.js';

/** Polls /readyz during an outage: how many answers were 503 (not ready), and how many claimed ready. */
function watchReadiness(url: string) {
  let notReady = 0;
  let ready = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const status = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(4000) }).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 503) notReady += 1;
      else if (status === 200) ready += 1;
      await sleep(500);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { notReady, ready };
    },
  };
}

async function readyAgain(url: string, since: number): Promise<number> {
  await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, { timeoutMs: 60_000, intervalMs: 100 });
  return Date.now() - since;
}

async function stackWithHub(ctx: Parameters<FaultCase['run']>[0]): Promise<Stack> {
  const stack = await startStack(ctx.cleanup, { postgres: ctx.postgres });
  await stack.startHub(stack.hubConfig());
  return stack;
}

export const mosquittoRestart: FaultCase = {
  name: 'mosquitto-restart',
  run: async (ctx) => {
    const stack = await stackWithHub(ctx);
    return [
      await runLoadWithFault(stack, {
        fault: 'Mosquitto restarted (SIGTERM, 1 s down)',
        ratePerSec: 300,
        warmupMs: 3000,
        cooldownMs: 4000,
        inject: async () => {
          const hub = stack.hubs[0]!;
          await stack.broker.stop();
          const watch = watchReadiness(hub.url);
          await sleep(1000);
          const r = await watch.stop();
          await stack.broker.start();
          const clearedAt = Date.now();
          return { clearedAt, notes: [`/readyz 503 ×${r.notReady}, 200 ×${r.ready} while down`] };
        },
      }),
    ];
  },
};

export const redisCrash: FaultCase = {
  name: 'redis-crash',
  run: async (ctx) => {
    const stack = await stackWithHub(ctx);
    const aof = `${await stack.redis.config('appendonly')}/${await stack.redis.config('appendfsync')}`;
    return [
      await runLoadWithFault(stack, {
        fault: 'Redis SIGKILLed, restarted after 2 s',
        ratePerSec: 300,
        warmupMs: 3000,
        cooldownMs: 5000,
        inject: async () => {
          const hub = stack.hubs[0]!;
          await stack.redis.kill();
          const watch = watchReadiness(hub.url);
          await sleep(2000);
          const r = await watch.stop();
          await stack.redis.start();
          const clearedAt = Date.now();
          const readyMs = await readyAgain(hub.url, clearedAt);
          return {
            clearedAt,
            notes: [
              `appendonly/appendfsync ${aof}`,
              `/readyz 503 ×${r.notReady} while down, ready ${readyMs} ms after`,
            ],
          };
        },
      }),
    ];
  },
};

export const postgresCrash: FaultCase = {
  name: 'postgres-crash',
  run: async (ctx) => {
    const stack = await stackWithHub(ctx);
    return [
      await runLoadWithFault(stack, {
        fault: 'PostgreSQL crash-restarted (immediate)',
        ratePerSec: 300,
        warmupMs: 3000,
        cooldownMs: 5000,
        inject: async () => {
          await stack.postgres.restart('immediate');
          return { clearedAt: Date.now() };
        },
      }),
    ];
  },
};

export const postgresDown: FaultCase = {
  name: 'postgres-down-30s',
  run: async (ctx) => {
    const stack = await stackWithHub(ctx);
    return [
      await runLoadWithFault(stack, {
        fault: 'PostgreSQL stopped for 30 s',
        ratePerSec: 200,
        warmupMs: 3000,
        cooldownMs: 5000,
        settleTimeoutMs: 180_000,
        inject: async () => {
          const hub = stack.hubs[0]!;
          await stack.postgres.stop('fast');
          const watch = watchReadiness(hub.url);
          await sleep(30_000);
          const r = await watch.stop();
          await stack.postgres.start();
          const clearedAt = Date.now();
          const readyMs = await readyAgain(hub.url, clearedAt);
          return {
            clearedAt,
            notes: [`/readyz 503 ×${r.notReady}, 200 ×${r.ready} while down; ready ${readyMs} ms after`],
          };
        },
      }),
    ];
  },
};

export const hubKilledTwice: FaultCase = {
  name: 'hub-sigkill-twice',
  run: async (ctx) => {
    const stack = await startStack(ctx.cleanup, { postgres: ctx.postgres });
    const config = stack.hubConfig({ INGEST_BATCH_MS: 100 });
    const first = `${((await stack.startHub(config)).readyMs / 1000).toFixed(1)} s`;
    return [
      await runLoadWithFault(stack, {
        fault: 'hub SIGKILLed mid-batch twice, restarted',
        ratePerSec: 400,
        warmupMs: 3000,
        cooldownMs: 4000,
        inject: async () => {
          const readyMs: number[] = [];
          for (let kill = 0; kill < 2; kill++) {
            await stack.hubs.at(-1)!.stop('SIGKILL');
            await sleep(300);
            readyMs.push((await stack.startHub(config)).readyMs);
            if (kill === 0) await sleep(2000);
          }
          // How long a restarted hub takes to be ready is the figure a user waits on (the spawn wait is 90 s).
          const restarts = readyMs.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ');
          return { clearedAt: Date.now(), notes: [`restarts ready after ${restarts} (first start ${first})`] };
        },
      }),
    ];
  },
};

export const twoHubsOneKilled: FaultCase = {
  name: 'two-hubs-one-killed',
  run: async (ctx) => {
    const stack = await startStack(ctx.cleanup, { postgres: ctx.postgres });
    const a = stack.hubConfig({ MQTT_SHARE_GROUP: 'hub' });
    const b = stack.hubConfig({ MQTT_SHARE_GROUP: 'hub' });
    await stack.startHub(a);
    const hubB = await stack.startHub(b);
    return [
      await runLoadWithFault(stack, {
        fault: 'two hubs (shared subscription), one SIGKILLed for 5 s',
        ratePerSec: 300,
        warmupMs: 3000,
        cooldownMs: 4000,
        inject: async () => {
          await hubB.stop('SIGKILL');
          await sleep(5000);
          await stack.startHub(b);
          return { clearedAt: Date.now() };
        },
      }),
    ];
  },
};
