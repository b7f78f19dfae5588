import { createTopics } from '@camhub/shared';
import { describe, expect, it } from 'vitest';
import { makeEvent } from '../support/factories.js';
import { useHubProcesses } from '../support/hub-fixture.js';
import { connectPublisher } from '../support/mqtt.js';
import { sleep, waitFor } from '../support/wait.js';

const SITE = 'storm';
const CAMERAS = 24;
const MOTION_PER_CAMERA = 60;

const stand = useHubProcesses({ INGEST_BATCH_MS: 50, ALERT_TICK_SEC: 1 });

const one = async <T>(sql: string, values: unknown[] = []) => (await stand.db.query(sql, values)).rows[0] as T;
const intrusionsStored = async () =>
  (await one<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE site = $1 AND type = 'intrusion'`, [SITE])).n;

/**
 * Alert evaluation is a BullMQ job backed by an outbox row written in the batch's own transaction: a hub killed
 * between committing a batch and evaluating it must still open that batch's alerts, and no alert may open twice.
 * The default "Intrusion or line crossing" rule opens one alert per camera; every camera gets one intrusion in the
 * middle of a motion storm, and the hub is SIGKILLed twice the moment a commit of intrusions is seen.
 */
describe('hub killed right after commits during a motion storm', () => {
  it('opens every alert that should open, exactly once', async () => {
    const t = createTopics(stand.env.config.MQTT_TOPIC_ROOT);
    await stand.spawn();
    const pub = await connectPublisher(undefined, { protocolVersion: 5 });
    const events = [];
    for (let n = 0; n < MOTION_PER_CAMERA; n++) {
      for (let c = 0; c < CAMERAS; c++) {
        const camera = `cam-${c}`;
        events.push(makeEvent({ site: SITE, camera, seq: n * 2, type: 'motion' }));
        // Each camera's intrusion somewhere in the storm, spread so that kills land among them.
        if (n === 10 + ((c * 37) % (MOTION_PER_CAMERA - 20))) {
          events.push(makeEvent({ site: SITE, camera, seq: n * 2 + 1, type: 'intrusion', state: 'pulse' }));
        }
      }
    }

    // The stock Mosquitto keeps at most 1000 messages for an offline session: stay well under it while the hub is
    // down, so that any loss is ours.
    const storedAll = async () =>
      (await one<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE site = $1', [SITE])).n;
    let stored = 0;
    const publishing = (async () => {
      for (let i = 0; i < events.length; i++) {
        if (i % 20 === 0) {
          while (i - stored > 600) {
            await sleep(50);
            stored = await storedAll();
          }
        }
        const e = events[i]!;
        await pub.publishAsync(t.events(e.site, e.camera), JSON.stringify(e), { qos: 1 });
        if (i % 20 === 19) await sleep(5);
      }
    })();

    // Counted while no hub runs: a restarted hub that is slow to report ready may already have committed every
    // intrusion left, and a count taken after its start would then wait for one that never comes.
    let before = await intrusionsStored();
    for (let kill = 0; kill < 2; kill++) {
      // Kill the moment a batch with intrusions has committed: its evaluation is at best queued, likely not done.
      await waitFor(async () => (await intrusionsStored()) > before, {
        timeoutMs: 60_000,
        intervalMs: 10,
        what: `intrusions committed before kill ${kill + 1}`,
      });
      await stand.hubs.at(-1)!.stop('SIGKILL');
      await sleep(300);
      before = await intrusionsStored();
      await stand.spawn();
    }
    await publishing;
    await pub.endAsync();

    const intrusions = events.filter((e) => e.type === 'intrusion').length;
    expect(intrusions).toBe(CAMERAS);
    await waitFor(async () => (await storedAll()) === events.length, { timeoutMs: 90_000, what: 'every event stored' });
    await waitFor(
      async () =>
        (await one<{ n: number }>('SELECT count(*)::int AS n FROM alert_outbox')).n === 0 &&
        (await one<{ n: number }>('SELECT count(*)::int AS n FROM alerts WHERE site = $1', [SITE])).n >= CAMERAS,
      { timeoutMs: 90_000, what: 'every owed evaluation done' },
    );

    const perCamera = (
      await stand.db.query<{ camera: string; alerts: number; opened: number; attached: number }>(
        `SELECT a.camera, count(DISTINCT a.id)::int AS alerts,
                (SELECT count(*)::int FROM alert_history h JOIN alerts x ON x.id = h.alert_id
                  WHERE x.site = a.site AND x.camera = a.camera AND h.action = 'opened') AS opened,
                (SELECT count(*)::int FROM alert_events ae JOIN alerts x ON x.id = ae.alert_id
                  WHERE x.site = a.site AND x.camera = a.camera) AS attached
         FROM alerts a WHERE a.site = $1 GROUP BY a.site, a.camera ORDER BY a.camera`,
        [SITE],
      )
    ).rows;
    expect(perCamera).toHaveLength(CAMERAS);
    for (const row of perCamera) expect(row, row.camera).toMatchObject({ alerts: 1, opened: 1, attached: 1 });
  }, 300_000);
});
