import type { CameraEvent, OutLastEvent, OutTopics } from '@camhub/shared';

/** One MQTT message the hub sends out. An empty retained payload clears a retained topic. */
export interface OutMessage {
  topic: string;
  payload: string;
  retain: boolean;
}

/**
 * From a stored batch, what home automation needs: per camera only the newest event (a batch may hold thousands),
 * and motion ON/OFF from motion starts and ends (a pulse is ON; `pulseOff` schedules its OFF).
 */
export function eventMessages(
  topics: OutTopics,
  events: CameraEvent[],
): { messages: OutMessage[]; pulses: { site: string; camera: string }[] } {
  const newest = new Map<string, CameraEvent>();
  const motion = new Map<string, CameraEvent>();
  for (const e of events) {
    const key = `${e.site}/${e.camera}`;
    const cur = newest.get(key);
    if (!cur || cur.at <= e.at) newest.set(key, e);
    if (e.type === 'motion') {
      const m = motion.get(key);
      if (!m || m.at <= e.at) motion.set(key, e);
    }
  }
  const messages: OutMessage[] = [];
  const pulses: { site: string; camera: string }[] = [];
  for (const e of newest.values()) {
    const last: OutLastEvent = { id: e.id, type: e.type, state: e.state, at: e.at, snapshot: Boolean(e.snapshot) };
    messages.push({ topic: topics.lastEvent(e.site, e.camera), payload: JSON.stringify(last), retain: true });
  }
  for (const e of motion.values()) {
    messages.push({ topic: topics.motion(e.site, e.camera), payload: e.state === 'end' ? 'OFF' : 'ON', retain: true });
    if (e.state === 'pulse') pulses.push({ site: e.site, camera: e.camera });
  }
  return { messages, pulses };
}

/**
 * Home Assistant MQTT discovery (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery): one device per
 * camera with a status sensor, a motion binary sensor and a last-event sensor, all unavailable while the hub is.
 */
export function discoveryMessages(
  prefix: string,
  topics: OutTopics,
  camera: { site: string; camera: string; name: string },
): OutMessage[] {
  const node = `camhub_${camera.site}_${camera.camera}`.replace(/[^a-zA-Z0-9_-]/g, '_');
  const device = {
    identifiers: [node],
    name: camera.name === camera.camera ? `${camera.site} ${camera.camera}` : camera.name,
    manufacturer: 'camhub',
    model: 'ONVIF camera',
    suggested_area: camera.site,
  };
  const common = {
    availability_topic: topics.available,
    payload_available: 'online',
    payload_not_available: 'offline',
    device,
  };
  const entity = (component: string, object: string, config: Record<string, unknown>): OutMessage => ({
    topic: `${prefix}/${component}/${node}/${object}/config`,
    payload: JSON.stringify({ ...common, unique_id: `${node}_${object}`, object_id: `${node}_${object}`, ...config }),
    retain: true,
  });
  return [
    entity('sensor', 'status', {
      name: 'Status',
      state_topic: topics.status(camera.site, camera.camera),
      value_template: '{{ value_json.status }}',
      json_attributes_topic: topics.status(camera.site, camera.camera),
      icon: 'mdi:cctv',
    }),
    entity('binary_sensor', 'motion', {
      name: 'Motion',
      device_class: 'motion',
      state_topic: topics.motion(camera.site, camera.camera),
      payload_on: 'ON',
      payload_off: 'OFF',
    }),
    entity('sensor', 'last_event', {
      name: 'Last event',
      state_topic: topics.lastEvent(camera.site, camera.camera),
      value_template: '{{ value_json.type }}',
      json_attributes_topic: topics.lastEvent(camera.site, camera.camera),
      icon: 'mdi:motion-sensor',
    }),
  ];
}
