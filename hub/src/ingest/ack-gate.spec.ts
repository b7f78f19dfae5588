import { EventEmitter } from 'node:events';
import { Duplex, PassThrough } from 'node:stream';
import { MqttClient } from 'mqtt';
import { describe, expect, it, vi } from 'vitest';
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

/**
 * A broker on the other end of an in-memory stream, speaking MQTT 3.1.1 bytes by hand: it accepts the connection,
 * publishes QoS 1 messages and records the packet types and ids the installed mqtt.js client writes back. This drives
 * the real client through the internal the gate wraps, so a new mqtt.js that sends PUBACKs some other way fails here.
 */
function wireBroker() {
  const toClient = new PassThrough();
  const fromClient = new PassThrough();
  const wire = Duplex.from({ readable: toClient, writable: fromClient });
  const acks: number[] = [];
  let buf = Buffer.alloc(0);
  fromClient.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      // Fixed header: type in the high nibble, then the remaining length as a varint.
      let len = 0;
      let mul = 1;
      let i = 1;
      for (; i < buf.length; i++) {
        len += (buf[i]! & 0x7f) * mul;
        mul *= 128;
        if ((buf[i]! & 0x80) === 0) break;
      }
      if (i >= buf.length || buf.length < i + 1 + len) return;
      const type = buf[0]! >> 4;
      if (type === 4) acks.push(buf.readUInt16BE(i + 1));
      if (type === 1) toClient.write(Buffer.from([0x20, 0x02, 0x00, 0x00])); // CONNECT -> CONNACK accepted
      if (type === 14) toClient.end(); // DISCONNECT -> the broker closes the connection
      buf = buf.subarray(i + 1 + len);
    }
  });
  const publish = (messageId: number) => {
    const topic = Buffer.from('camhub/v1/t');
    const payload = Buffer.from(`m${messageId}`);
    const body = Buffer.concat([Buffer.from([0, topic.length]), topic, Buffer.from([0, messageId]), payload]);
    toClient.write(Buffer.concat([Buffer.from([0x32, body.length]), body]));
  };
  return { wire, acks, publish };
}

describe('AckGate on the installed mqtt.js client', () => {
  it('holds PUBACKs until the batch is durable, then sends them in the order the messages arrived', async () => {
    const broker = wireBroker();
    const client = new MqttClient(() => broker.wire, {
      protocolVersion: 4,
      clientId: 'ack-gate-spec',
      reconnectPeriod: 0,
      keepalive: 0,
    });
    try {
      const gate = new AckGate(client);
      await new Promise<void>((resolve) => client.once('connect', () => resolve()));
      const received: number[] = [];
      client.on('message', (_topic, payload) => received.push(Number(payload.toString().slice(1))));
      for (const id of [11, 12, 13]) broker.publish(id);
      await vi.waitFor(() => expect(received).toEqual([11, 12, 13]));
      // Every message was handed to the hub and mqtt.js moved on, yet nothing is acknowledged: not durable yet.
      await new Promise((r) => setImmediate(r));
      expect(broker.acks).toEqual([]);
      expect(gate.pending).toBe(3);
      // The first batch (two messages) is durable.
      gate.release(gate.currentGeneration, 2);
      await vi.waitFor(() => expect(broker.acks).toEqual([11, 12]));
      broker.publish(14);
      await vi.waitFor(() => expect(received).toHaveLength(4));
      expect(broker.acks).toEqual([11, 12]);
      gate.release(gate.currentGeneration, 2);
      await vi.waitFor(() => expect(broker.acks).toEqual([11, 12, 13, 14]));
    } finally {
      await client.endAsync();
    }
  });
});
