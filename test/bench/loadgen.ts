/**
 * The benchmark's load generator, run as its own process (`node --import tsx test/bench/loadgen.ts '<json>'`) so that
 * its CPU is not the hub's or the orchestrator's. It plays S sites (one MQTT connection each, logged in as the site,
 * as an edge agent would) with C cameras in all, publishing contract-valid CameraEvents at QoS 1.
 *
 * Modes:
 * - `events`: R events/s for T seconds; a share of the messages are exact re-sends of a recent event (same id,
 *   same payload), as redelivery and agent replays produce. Each event carries its send time in `data.sentAt`
 *   (epoch ms) so PostgreSQL can tell publish → committed latency per row.
 * - `raw`: the broker ceiling: the same connections publish one small payload as fast as QoS 1 allows, for T s.
 *
 * Protocol with the parent: one line `START <epoch ms>` when publishing begins, one line `RESULT <json>` at the end.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { v7 as uuidv7 } from 'uuid';

export interface LoadgenOptions {
  mode: 'events' | 'raw';
  url: string;
  topicRoot: string;
  sites: { site: string; password: string }[];
  /** Cameras in all, spread evenly over the sites. */
  cameras: number;
  /** Target messages per second (events mode); ignored in raw mode (as fast as possible). */
  rate: number;
  seconds: number;
  /** Share of messages that are re-sends of a recent event (0..1). */
  duplicateRatio: number;
  /** Unacknowledged QoS 1 publishes allowed per connection. */
  inflightPerConnection: number;
}

export interface LoadgenResult {
  published: number;
  unique: number;
  duplicatesSent: number;
  acked: number;
  errors: number;
  startedAt: number;
  endedAt: number;
  lastAckAt: number;
  /** Publishing fell behind the target because the acknowledgement window was full (ticks). */
  windowFullTicks: number;
  achievedRate: number;
}

const TYPES = ['motion', 'motion', 'motion', 'tamper', 'digital_input', 'intrusion'] as const;
const TOPICS: Record<(typeof TYPES)[number], string> = {
  motion: 'tns1:RuleEngine/CellMotionDetector/Motion',
  tamper: 'tns1:RuleEngine/TamperDetector/Tamper',
  digital_input: 'tns1:Device/Trigger/DigitalInput',
  intrusion: 'tns1:RuleEngine/FieldDetector/ObjectsInside',
};

async function main() {
  const opts = JSON.parse(process.argv[2] ?? '') as LoadgenOptions;
  const clients: MqttClient[] = await Promise.all(
    opts.sites.map((s) =>
      mqtt.connectAsync(opts.url, {
        clientId: `bench-${s.site}-${process.pid}`,
        username: s.site,
        password: s.password,
        protocolVersion: 5,
        clean: true,
        reconnectPeriod: 0,
      }),
    ),
  );
  const cams = Array.from({ length: opts.cameras }, (_, i) => {
    const siteIndex = i % opts.sites.length;
    const site = opts.sites[siteIndex]!.site;
    const camera = `cam-${String(Math.floor(i / opts.sites.length)).padStart(4, '0')}`;
    return { siteIndex, site, camera, seq: 0, topic: `${opts.topicRoot}/${site}/cameras/${camera}/events` };
  });

  const inflight = new Array<number>(clients.length).fill(0);
  const r: LoadgenResult = {
    published: 0,
    unique: 0,
    duplicatesSent: 0,
    acked: 0,
    errors: 0,
    startedAt: Date.now(),
    endedAt: 0,
    lastAckAt: 0,
    windowFullTicks: 0,
    achievedRate: 0,
  };
  const onAck = (ci: number) => (err?: Error) => {
    inflight[ci]! -= 1;
    if (err) r.errors += 1;
    else r.acked += 1;
    r.lastAckAt = Date.now();
  };
  const acks = clients.map((_, ci) => onAck(ci));
  const recent: { ci: number; topic: string; payload: string }[] = [];
  let next = 0;

  const publishOne = (): boolean => {
    if (opts.mode === 'events' && recent.length > 100 && Math.random() < opts.duplicateRatio) {
      const d = recent[Math.floor(Math.random() * recent.length)]!;
      if (inflight[d.ci]! >= opts.inflightPerConnection) return false;
      inflight[d.ci]! += 1;
      clients[d.ci]!.publish(d.topic, d.payload, { qos: 1 }, acks[d.ci]);
      r.duplicatesSent += 1;
      r.published += 1;
      return true;
    }
    const cam = cams[next % cams.length]!;
    if (inflight[cam.siteIndex]! >= opts.inflightPerConnection) return false;
    next += 1;
    let topic = cam.topic;
    let payload: string;
    if (opts.mode === 'raw') {
      // Below the site's cameras: the broker's ACL lets a site write only its agent and cameras topics (since the
      // config topic became the hub's, 2026-11-26 02:17, `<site>/raw` was refused and the ceiling measured nothing).
      // `raw` is no kind the hub subscribes to.
      topic = `${opts.topicRoot}/${cam.site}/cameras/bench-ceiling/raw`;
      payload = '{"v":1,"raw":true}';
    } else {
      cam.seq += 1;
      const type = TYPES[cam.seq % TYPES.length]!;
      const now = Date.now();
      payload = JSON.stringify({
        v: 1,
        id: uuidv7(),
        site: cam.site,
        camera: cam.camera,
        seq: cam.seq,
        type,
        state: type === 'motion' ? (cam.seq % 2 ? 'start' : 'end') : 'pulse',
        at: new Date(now).toISOString(),
        source: { kind: 'onvif', topic: TOPICS[type] },
        data: { sentAt: now, rule: 'bench' },
      });
      if (recent.length < 5000) recent.push({ ci: cam.siteIndex, topic, payload });
      else recent[next % 5000] = { ci: cam.siteIndex, topic, payload };
    }
    inflight[cam.siteIndex]! += 1;
    clients[cam.siteIndex]!.publish(topic, payload, { qos: 1 }, acks[cam.siteIndex]);
    r.published += 1;
    r.unique += 1;
    return true;
  };

  process.stdout.write(`START ${r.startedAt}\n`);
  const endAt = r.startedAt + opts.seconds * 1000;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = Date.now();
      if (now >= endAt) return resolve();
      // Catch up to where the target rate says we should be; raw mode fills the window every tick.
      const due = opts.mode === 'raw' ? Infinity : Math.floor(((now - r.startedAt) / 1000) * opts.rate) - r.published;
      let sent = 0;
      while (sent < due && sent < 5000) {
        if (!publishOne()) {
          r.windowFullTicks += 1;
          break;
        }
        sent += 1;
      }
      setTimeout(tick, 1);
    };
    tick();
  });
  r.endedAt = Date.now();
  r.achievedRate = r.published / ((r.endedAt - r.startedAt) / 1000);
  const ackDeadline = Date.now() + 60_000;
  while (r.acked + r.errors < r.published && Date.now() < ackDeadline) await new Promise((res) => setTimeout(res, 20));
  await Promise.all(clients.map((c) => c.endAsync()));
  process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`loadgen failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
