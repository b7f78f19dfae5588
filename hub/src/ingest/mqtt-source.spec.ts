import { describe, expect, it } from 'vitest';
import { ReadHold, subscriptions } from './mqtt-source.js';

describe(ReadHold.name, () => {
  it('reads on up to the high-water mark, holds beyond it, and resumes at the low-water mark', () => {
    const sut = new ReadHold(10);
    const ran: number[] = [];
    for (let pending = 1; pending <= 12; pending++) sut.admit(pending, () => ran.push(pending));
    expect(ran).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(sut.size).toBe(2);
    sut.released(6); // still above 10 / 2
    expect(sut.size).toBe(2);
    sut.released(5);
    expect(ran).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(sut.size).toBe(0);
  });

  it('never runs a held callback of a closed connection', () => {
    const sut = new ReadHold(1);
    let ran = 0;
    sut.admit(2, () => (ran += 1));
    sut.drop();
    sut.released(0);
    expect(ran).toBe(0);
  });
});

describe(subscriptions.name, () => {
  it('subscribes to every topic kind with QoS 1', () => {
    const subs = subscriptions({ MQTT_TOPIC_ROOT: 'camhub/v1', MQTT_SHARE_GROUP: undefined });
    expect(Object.keys(subs).sort()).toEqual([
      'camhub/v1/+/agent',
      'camhub/v1/+/cameras/+/clips',
      'camhub/v1/+/cameras/+/events',
      'camhub/v1/+/cameras/+/health',
      'camhub/v1/+/cameras/+/status',
    ]);
    expect(new Set(Object.values(subs).map((s) => s.qos))).toEqual(new Set([1]));
  });

  it('shares events, clip links and health across hubs, never the retained status and agent topics', () => {
    const subs = Object.keys(subscriptions({ MQTT_TOPIC_ROOT: 'camhub/v1', MQTT_SHARE_GROUP: 'hub' })).sort();
    expect(subs).toEqual([
      '$share/hub/camhub/v1/+/cameras/+/clips',
      '$share/hub/camhub/v1/+/cameras/+/events',
      '$share/hub/camhub/v1/+/cameras/+/health',
      'camhub/v1/+/agent',
      'camhub/v1/+/cameras/+/status',
    ]);
  });
});
