import { Writable } from 'node:stream';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { pubackBytes, writePubacksDirectly } from './fast-puback';

/** A stream that keeps every write apart, to see how many pieces a packet took. */
function pieces(): { stream: Writable; writes: Buffer[] } {
  const writes: Buffer[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _e, cb) => (writes.push(Buffer.from(chunk)), cb()) });
  return { stream, writes };
}

describe('PUBACKs written directly for aedes', () => {
  it('are the bytes mqtt-packet generates, for every message id', () => {
    for (let id = 0; id <= 0xffff; id++) {
      const ours = pubackBytes(id);
      if (!ours.equals(mqttPacket.generate({ cmd: 'puback', messageId: id }))) throw new Error(`PUBACK ${id}: ${ours.toString('hex')}`);
    }
  });

  it('take one write on a registered stream, the same bytes as before', async () => {
    const before = pieces();
    mqttPacket.writeToStream({ cmd: 'puback', messageId: 513 }, before.stream);
    const after = pieces();
    writePubacksDirectly(after.stream);
    expect(mqttPacket.writeToStream({ cmd: 'puback', messageId: 513 }, after.stream)).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(after.writes).toHaveLength(1);
    expect(Buffer.concat(after.writes)).toEqual(Buffer.concat(before.writes));
  });

  it('leave every other packet, stream and option to mqtt-packet', async () => {
    const registered = pieces();
    writePubacksDirectly(registered.stream);
    mqttPacket.writeToStream({ cmd: 'puback', messageId: 7 }, registered.stream, { protocolVersion: 5 });
    mqttPacket.writeToStream({ cmd: 'pubrec', messageId: 7 }, registered.stream);
    const other = pieces();
    mqttPacket.writeToStream({ cmd: 'puback', messageId: 7 }, other.stream);
    await new Promise((r) => setImmediate(r));
    expect(Buffer.concat(registered.writes)).toEqual(
      Buffer.concat([mqttPacket.generate({ cmd: 'puback', messageId: 7 }, { protocolVersion: 5 }), mqttPacket.generate({ cmd: 'pubrec', messageId: 7 })]),
    );
    expect(other.writes.length).toBeGreaterThan(1);
  });

  it('refuse an invalid message id as mqtt-packet does (the stream is destroyed)', async () => {
    const { stream } = pieces();
    const errors: Error[] = [];
    stream.on('error', (err) => errors.push(err));
    writePubacksDirectly(stream);
    expect(mqttPacket.writeToStream({ cmd: 'puback', messageId: 'x' as unknown as number }, stream)).toBe(false);
    expect(stream.destroyed).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(errors.map((e) => e.message)).toEqual(['Invalid messageId']);
  });
});
