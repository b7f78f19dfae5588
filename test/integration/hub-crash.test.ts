import { createTopics } from '@camhub/shared';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent } from '../support/factories.js';
import { type TestHubEnv } from '../support/hub.js';
import { useTestHubEnv } from '../support/hub-fixture.js';
import { connectPublisher } from '../support/mqtt.js';
import { type HubProcess, spawnHub } from '../support/processes.js';
import { sleep, waitFor } from '../support/wait.js';

let env: TestHubEnv;
let db: pg.Pool;
const hubs: HubProcess[] = [];

const fixture = useTestHubEnv({ INGEST_BATCH_MS: 100 });
beforeAll(() => {
  ({ env } = fixture);
  db = new pg.Pool({ connectionString: env.db.url });
});

afterAll(async () => {
  await Promise.all(hubs.map((h) => h.stop('SIGKILL')));
  await db?.end();
});

/**
 * Rows, and distinct events by what the agent numbers them with. `id` is the primary key, so distinct ids would
 * always equal the row count; one event stored twice shows as two rows with one (site, camera, seq), as in the fault
 * suite (test/faults/support/stack.ts).
 */
const count = async () =>
  (
    await db.query(
      'SELECT count(*)::int AS n, count(DISTINCT (site, camera, seq))::int AS d FROM events WHERE site = $1',
      ['crash'],
    )
  ).rows[0] as { n: number; d: number };

describe('hub killed mid-batch', () => {
  it('loses no event acknowledged to the broker when SIGKILLed twice under load, and stores none twice', async () => {
    const t = createTopics(env.config.MQTT_TOPIC_ROOT);
    hubs.push(await spawnHub(env.config));
    const pub = await connectPublisher(undefined, { protocolVersion: 5 });
    const total = 3000;
    const events = Array.from({ length: total }, (_, i) =>
      makeEvent({ site: 'crash', camera: `cam-${i % 10}`, seq: Math.floor(i / 10) }),
    );

    // Publish steadily while the hub is killed twice without warning and started again. The machine's stock
    // Mosquitto keeps at most 1000 messages for an offline session (max_queued_messages; the deploy config raises
    // it), so the publisher keeps fewer than 700 unstored events outstanding: however long a restart takes on a
    // loaded machine, what the broker holds for the hub stays within its limit, and every loss would be ours.
    let stored = 0;
    const publishing = (async () => {
      for (let i = 0; i < total; i++) {
        if (i % 10 === 0) {
          while (i - stored > 700) {
            await sleep(50);
            stored = (await count()).d;
          }
        }
        const e = events[i]!;
        await pub.publishAsync(t.events(e.site, e.camera), JSON.stringify(e), { qos: 1 });
        if (i % 10 === 9) await sleep(10);
      }
    })();
    for (let kill = 0; kill < 2; kill++) {
      await waitFor(async () => (await count()).n > (kill + 1) * 600, {
        timeoutMs: 30_000,
        what: `progress before kill ${kill + 1}`,
      });
      await hubs.at(-1)!.stop('SIGKILL');
      await sleep(300);
      hubs.push(await spawnHub(env.config));
    }
    await publishing;
    await pub.endAsync();

    await waitFor(async () => (await count()).d === total, { timeoutMs: 60_000, what: `all ${total} events stored` });
    const c = await count();
    expect(c).toEqual({ n: total, d: total });
  }, 180_000);
});
