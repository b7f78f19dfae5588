import { createTopics } from '@camhub/shared';
import { describe, expect, it } from 'vitest';
import { makeEvent } from '../support/factories.js';
import { useHubProcesses } from '../support/hub-fixture.js';
import { connectPublisher } from '../support/mqtt.js';
import { sleep, waitFor } from '../support/wait.js';

const stand = useHubProcesses({ INGEST_BATCH_MS: 100 });

/**
 * Rows, and distinct events by what the agent numbers them with. `id` is the primary key, so distinct ids would
 * always equal the row count; one event stored twice shows as two rows with one (site, camera, seq), as in the fault
 * suite (test/faults/support/stack.ts).
 */
const count = async () =>
  (
    await stand.db.query(
      'SELECT count(*)::int AS n, count(DISTINCT (site, camera, seq))::int AS d FROM events WHERE site = $1',
      ['crash'],
    )
  ).rows[0] as { n: number; d: number };

describe('hub killed mid-batch', () => {
  it('loses no event acknowledged to the broker when SIGKILLed twice under load, and stores none twice', async () => {
    const t = createTopics(stand.env.config.MQTT_TOPIC_ROOT);
    await stand.spawn();
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
      await stand.hubs.at(-1)!.stop('SIGKILL');
      await sleep(300);
      await stand.spawn();
    }
    await publishing;
    await pub.endAsync();

    await waitFor(async () => (await count()).d === total, { timeoutMs: 60_000, what: `all ${total} events stored` });
    const c = await count();
    expect(c).toEqual({ n: total, d: total });
  }, 180_000);
});
