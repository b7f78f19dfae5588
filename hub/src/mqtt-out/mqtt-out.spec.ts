import { createOutTopics } from '@camhub/shared';
import { describe, expect, it } from 'vitest';
import { discoveryMessages, eventMessages } from './mqtt-out.js';

const topics = createOutTopics('camhub/v1');
const ev = (camera: string, type: string, state: string, at: string) =>
  ({ v: 1, id: `${camera}-${at}`, site: 'td-01', camera, seq: 1, type, state, at, source: { kind: 'onvif' } }) as never;

describe('mqtt out', () => {
  it('publishes only the newest event per camera, and motion from starts and ends', () => {
    const { messages, pulses } = eventMessages(topics, [
      ev('gate', 'motion', 'start', '2026-11-25T10:00:00Z'),
      ev('gate', 'motion', 'end', '2026-11-25T10:00:05Z'),
      ev('yard', 'intrusion', 'pulse', '2026-11-25T10:00:01Z'),
      ev('hall', 'motion', 'pulse', '2026-11-25T10:00:02Z'),
    ]);
    const byTopic = Object.fromEntries(messages.map((m) => [m.topic, m.payload]));
    expect(byTopic['camhub/v1/_hub/td-01/gate/motion']).toBe('OFF');
    expect(byTopic['camhub/v1/_hub/td-01/hall/motion']).toBe('ON');
    expect(JSON.parse(byTopic['camhub/v1/_hub/td-01/gate/last_event']!)).toMatchObject({ state: 'end' });
    expect(JSON.parse(byTopic['camhub/v1/_hub/td-01/yard/last_event']!)).toMatchObject({ type: 'intrusion' });
    expect(byTopic['camhub/v1/_hub/td-01/yard/motion']).toBeUndefined();
    expect(pulses).toEqual([{ site: 'td-01', camera: 'hall' }]);
    expect(messages.every((m) => m.retain)).toBe(true);
  });

  it('announces each camera to Home Assistant as one device with three entities', () => {
    const msgs = discoveryMessages('homeassistant', topics, { site: 'td-01', camera: 'gate', name: 'Cổng chính' });
    expect(msgs.map((m) => m.topic)).toEqual([
      'homeassistant/sensor/camhub_td-01_gate/status/config',
      'homeassistant/binary_sensor/camhub_td-01_gate/motion/config',
      'homeassistant/sensor/camhub_td-01_gate/last_event/config',
    ]);
    const motion = JSON.parse(msgs[1]!.payload);
    expect(motion).toMatchObject({
      unique_id: 'camhub_td-01_gate_motion',
      device_class: 'motion',
      state_topic: 'camhub/v1/_hub/td-01/gate/motion',
      availability_topic: 'camhub/v1/_hub/available',
      device: { identifiers: ['camhub_td-01_gate'], name: 'Cổng chính' },
    });
  });
});
