import { sleep, waitFor } from '../../support/wait.js';
import type { FaultCase } from '../support/case.js';
import { type LoadFaultOptions, runLoadWithFault } from '../support/scenario.js';
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

/**
 * What a service outage under load does to the hub: `stop`, the hub's /readyz polled for `downMs`, `start`, then (with
 * `readyAgain`) how long after the start the hub says it is ready again. The notes say what readiness answered.
 */
function outage(
  stack: Stack,
  o: { stop: () => Promise<unknown>; start: () => Promise<unknown>; downMs: number; readyAgain: boolean },
) {
  return async () => {
    const hub = stack.hubs[0]!;
    await o.stop();
    const watch = watchReadiness(hub.url);
    await sleep(o.downMs);
    const r = await watch.stop();
    await o.start();
    const clearedAt = Date.now();
    const readyMs = o.readyAgain ? await readyAgain(hub.url, clearedAt) : null;
    const after = readyMs === null ? '' : `; ready ${readyMs} ms after`;
    return { clearedAt, notes: [`/readyz 503 ×${r.notReady}, 200 ×${r.ready} while down${after}`] };
  };
}

async function stackWithHub(ctx: Parameters<FaultCase['run']>[0]): Promise<Stack> {
  const stack = await startStack(ctx.cleanup, { postgres: ctx.postgres });
  await stack.startHub(stack.hubConfig());
  return stack;
}

/** A case of one hub under steady load with one fault in the middle; `scenario` says which, once the stack runs. */
function oneHubCase(name: string, scenario: (stack: Stack) => LoadFaultOptions | Promise<LoadFaultOptions>): FaultCase {
  return {
    name,
    run: async (ctx) => {
      const stack = await stackWithHub(ctx);
      return [await runLoadWithFault(stack, await scenario(stack))];
    },
  };
}

export const mosquittoRestart = oneHubCase('mosquitto-restart', (stack) => ({
  fault: 'Mosquitto restarted (SIGTERM, 1 s down)',
  ratePerSec: 300,
  warmupMs: 3000,
  cooldownMs: 4000,
  inject: outage(stack, {
    stop: () => stack.broker.stop(),
    start: () => stack.broker.start(),
    downMs: 1000,
    readyAgain: false,
  }),
}));

export const redisCrash = oneHubCase('redis-crash', async (stack) => {
  const aof = `${await stack.redis.config('appendonly')}/${await stack.redis.config('appendfsync')}`;
  return {
    fault: 'Redis SIGKILLed, restarted after 2 s',
    ratePerSec: 300,
    warmupMs: 3000,
    cooldownMs: 5000,
    inject: async () => {
      const { clearedAt, notes } = await outage(stack, {
        stop: () => stack.redis.kill(),
        start: () => stack.redis.start(),
        downMs: 2000,
        readyAgain: true,
      })();
      return { clearedAt, notes: [`appendonly/appendfsync ${aof}`, ...notes] };
    },
  };
});

export const postgresCrash = oneHubCase('postgres-crash', (stack) => ({
  fault: 'PostgreSQL crash-restarted (immediate)',
  ratePerSec: 300,
  warmupMs: 3000,
  cooldownMs: 5000,
  inject: async () => {
    await stack.postgres.restart('immediate');
    return { clearedAt: Date.now() };
  },
}));

export const postgresDown = oneHubCase('postgres-down-30s', (stack) => ({
  fault: 'PostgreSQL stopped for 30 s',
  ratePerSec: 200,
  warmupMs: 3000,
  cooldownMs: 5000,
  settleTimeoutMs: 180_000,
  inject: outage(stack, {
    stop: () => stack.postgres.stop('fast'),
    start: () => stack.postgres.start(),
    downMs: 30_000,
    readyAgain: true,
  }),
}));

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
