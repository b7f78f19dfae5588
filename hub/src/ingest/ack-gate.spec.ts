import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { AckGate } from './ack-gate.js';

/** The part of mqtt.js's client the gate touches: `_sendPacket`, `connected` and the 'close' event. */
function fakeClient() {
  const sent: { cmd: string; messageId?: number }[] = [];
  const client = Object.assign(new EventEmitter(), {
    connected: true,
    _sendPacket: (packet: { cmd: string; messageId?: number }, cb?: () => void) => {
      sent.push(packet);
      cb?.();
    },
  });
  return { client, sent, asMqtt: client as unknown as MqttClient };
}

describe(AckGate.name, () => {
  it('holds PUBACKs, lets other packets through, and releases acknowledgements in arrival order', () => {
    const { client, sent, asMqtt } = fakeClient();
    const sut = new AckGate(asMqtt);
    let calledBack = 0;
    for (const id of [1, 2, 3]) client._sendPacket({ cmd: 'puback', messageId: id }, () => (calledBack += 1));
    client._sendPacket({ cmd: 'pingreq' });
    expect(calledBack).toBe(3); // mqtt.js moves on at once
    expect(sent).toEqual([{ cmd: 'pingreq' }]);
    expect(sut.pending).toBe(3);
    sut.release(sut.currentGeneration, 2);
    expect(sent.slice(1)).toEqual([
      { cmd: 'puback', messageId: 1 },
      { cmd: 'puback', messageId: 2 },
    ]);
    expect(sut.pending).toBe(1);
  });

  it('never sends an acknowledgement of a closed connection on the next one', () => {
    const { client, sent, asMqtt } = fakeClient();
    const sut = new AckGate(asMqtt);
    const before = sut.currentGeneration;
    client._sendPacket({ cmd: 'puback', messageId: 7 });
    client.emit('close');
    expect(sut.pending).toBe(0);
    client._sendPacket({ cmd: 'puback', messageId: 1 });
    sut.release(before, 1); // a batch of the old connection becomes durable late
    expect(sent).toEqual([]);
    sut.release(sut.currentGeneration, 1);
    expect(sent).toEqual([{ cmd: 'puback', messageId: 1 }]);
  });

  it('refuses a client without the internal it wraps (the pinned mqtt version changed)', () => {
    expect(() => new AckGate(new EventEmitter() as unknown as MqttClient)).toThrow(/_sendPacket/);
  });
});
