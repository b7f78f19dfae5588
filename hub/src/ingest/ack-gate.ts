import type { MqttClient } from 'mqtt';

/**
 * Holds QoS 1 PUBACKs until the messages they acknowledge are durable (queued in Redis).
 *
 * Why this exists: mqtt.js sends a PUBACK as soon as its `handleMessage` hook calls back, and it processes the next
 * packet only after that. Delaying the callback until a batch is durable would process one message per batch
 * (a few hundred messages/s). Instead we let mqtt.js carry on at once and hold the PUBACK packets here, releasing
 * them in order after the batch that contains them is safely in Redis. If the connection drops first, the held
 * acknowledgements are discarded and the broker redelivers those messages to our persistent session (the ids make
 * redelivery harmless). MQTT requires PUBACKs in the order the PUBLISHes arrived, which a FIFO release keeps.
 *
 * It wraps mqtt.js's internal `_sendPacket`, so hub/package.json pins mqtt to one exact version: upgrade it on
 * purpose, and only once ack-gate.spec.ts (the installed client against a broker on an in-memory stream) passes.
 * test/integration/hub-crash.test.ts shows that killing the hub mid-batch loses nothing.
 */
type SendPacket = (packet: { cmd: string; messageId?: number }, cb?: (err?: Error) => void, ...rest: unknown[]) => void;

export class AckGate {
  private held: { messageId: number }[] = [];
  private generation = 0;
  private readonly send: SendPacket;

  constructor(private readonly client: MqttClient) {
    const internal = client as unknown as { _sendPacket: SendPacket };
    if (typeof internal._sendPacket !== 'function') {
      throw new Error('mqtt client has no _sendPacket: the pinned mqtt version changed; see ack-gate.ts');
    }
    this.send = internal._sendPacket.bind(client);
    internal._sendPacket = (packet, cb, ...rest) => {
      if (packet.cmd === 'puback' && packet.messageId !== undefined) {
        this.held.push({ messageId: packet.messageId });
        // Let mqtt.js move on to the next packet now; the real PUBACK goes out on release().
        cb?.();
        return;
      }
      this.send(packet, cb, ...rest);
    };
    // A new connection renumbers nothing we hold: acknowledgements for the old one must never be sent on it.
    client.on('close', () => {
      this.generation += 1;
      this.held = [];
    });
  }

  /** How many acknowledgements are waiting, i.e. messages received but not yet durable. */
  get pending(): number {
    return this.held.length;
  }

  /** Connection generation: batches remember it so that they never release another connection's acks. */
  get currentGeneration(): number {
    return this.generation;
  }

  /** Sends, in order, the first `count` acknowledgements held for connection `generation`, if it is still current. */
  release(generation: number, count: number): void {
    if (generation !== this.generation) return;
    const batch = this.held.splice(0, count);
    for (const held of batch) {
      if (!this.client.connected) return;
      this.send({ cmd: 'puback', messageId: held.messageId });
    }
  }
}
