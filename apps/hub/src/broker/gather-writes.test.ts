import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { gatherWrites } from './gather-writes';

/** A Writable that records each write it is handed (one per system call on a socket). */
function recorder(): { stream: Writable; writes: string[] } {
  const writes: string[] = [];
  const stream = new Writable({
    writev(chunks, cb) {
      for (const c of chunks) writes.push(String(c.chunk));
      cb();
    },
    write(chunk: Buffer, _enc, cb) {
      writes.push(String(chunk));
      cb();
    },
  });
  return { stream, writes };
}

const tick = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe('gatherWrites', () => {
  it('hands the writes of one tick on as one write, bytes and order unchanged', async () => {
    const { stream, writes } = recorder();
    gatherWrites(stream);
    // As mqtt-packet writes a PUBACK: header, length, message id; two of them in one read.
    for (const piece of ['@', '\x02', '\x00\x01', '@', '\x02', '\x00\x02']) stream.write(Buffer.from(piece, 'latin1'));
    stream.write('text');
    expect(writes).toEqual([]);
    await tick();
    expect(writes).toEqual(['@\x02\x00\x01@\x02\x00\x02text']);
    stream.write('next');
    await tick();
    expect(writes).toEqual(['@\x02\x00\x01@\x02\x00\x02text', 'next']);
  });

  it('without it, each piece is its own write (what it changes)', async () => {
    const { stream, writes } = recorder();
    for (const piece of ['a', 'b']) stream.write(piece);
    await tick();
    expect(writes).toEqual(['a', 'b']);
  });

  it('hands on what was gathered before the stream is destroyed', async () => {
    const { stream, writes } = recorder();
    gatherWrites(stream);
    stream.write('last ack');
    stream.destroy();
    await tick();
    expect(writes).toEqual(['last ack']);
    expect(stream.destroyed).toBe(true);
  });

  it('hands on what was gathered before the stream is ended, then the end', async () => {
    const { stream, writes } = recorder();
    gatherWrites(stream);
    stream.write('first');
    stream.end('final');
    await new Promise((resolve) => stream.on('finish', resolve));
    expect(writes).toEqual(['first', 'final']);
  });

  it('a write with a callback goes out at once, after what was gathered, and its callback is called', async () => {
    const { stream, writes } = recorder();
    gatherWrites(stream);
    stream.write('a');
    const done = new Promise<void>((resolve) => stream.write('b', () => resolve()));
    expect(writes).toEqual(['ab']);
    await done;
    stream.write('c');
    await tick();
    expect(writes).toEqual(['ab', 'c']);
  });

  it('a corked stream does not hold gathered writes (cork and uncork are gathering now)', async () => {
    const { stream, writes } = recorder();
    gatherWrites(stream);
    stream.cork();
    stream.write('x');
    await tick();
    expect(writes).toEqual(['x']);
  });

  it('answers with the stream’s own backpressure', () => {
    const writes: string[] = [];
    const stream = new Writable({ highWaterMark: 4, write: (chunk: Buffer, _e, cb) => (writes.push(String(chunk)), setTimeout(cb, 5)) });
    gatherWrites(stream);
    expect(stream.write('12345', () => undefined)).toBe(false);
    expect(stream.write('6')).toBe(false);
  });
});
