import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { coalesceWrites } from './coalesce-writes';

/** A Writable that records each batch it is handed (one per system call on a socket). */
function recorder(): { stream: Writable; batches: string[][] } {
  const batches: string[][] = [];
  const stream = new Writable({
    writev(chunks, cb) {
      batches.push(chunks.map((c) => String(c.chunk)));
      cb();
    },
    write(chunk: Buffer, _enc, cb) {
      batches.push([String(chunk)]);
      cb();
    },
  });
  return { stream, batches };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('coalesceWrites', () => {
  it('sends the writes of one turn of the event loop as one batch, bytes and order unchanged', async () => {
    const { stream, batches } = recorder();
    coalesceWrites(stream);
    // As MQTT.js acknowledges: one PUBACK per message, each on its own tick.
    for (const ack of ['a1', 'a2', 'a3']) await Promise.resolve().then(() => stream.write(ack));
    await turn();
    expect(batches).toEqual([['a1', 'a2', 'a3']]);
    stream.write('b1');
    await turn();
    expect(batches).toEqual([['a1', 'a2', 'a3'], ['b1']]);
  });

  it('without it, each write of a turn is its own batch (what it changes)', async () => {
    const { stream, batches } = recorder();
    for (const ack of ['a1', 'a2']) await Promise.resolve().then(() => stream.write(ack));
    await turn();
    expect(batches).toEqual([['a1'], ['a2']]);
  });

  it('sends what was written before the stream is destroyed, as an uncorked stream would have', async () => {
    const { stream, batches } = recorder();
    coalesceWrites(stream);
    stream.write('x');
    stream.write('y');
    stream.destroy();
    await turn();
    expect(batches).toEqual([['x', 'y']]);
    expect(stream.destroyed).toBe(true);
  });
});
