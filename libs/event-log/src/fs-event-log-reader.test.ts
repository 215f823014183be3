import fs from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeLine } from './line-codec';
import { FsEventLogReader } from './fs-event-log-reader';
import type { LogPosition, LogRecord } from './port';
import { captureLog, heartbeat, tempRoot } from './test-support';

const RX = '2026-03-01T10:00:00.000Z';
const line = (seq: number) => encodeLine({ event: heartbeat('piha', seq), rx: RX });
const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => line(from + i)).join('');

let root: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ root, cleanup } = await tempRoot());
});
afterEach(() => cleanup());

async function put(rel: string, content: string | Buffer): Promise<string> {
  const abs = path.join(root, 'events', rel);
  await fs.mkdir(path.dirname(abs), { recursive: true });
  await fs.writeFile(abs, content);
  return abs;
}

async function collect(reader: FsEventLogReader, from: LogPosition | null, stream = 'piha'): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const r of reader.read(stream, from)) out.push(r);
  return out;
}

describe('FsEventLogReader', () => {
  it('lists streams sorted and reads files in date order, gzipped days included', async () => {
    await put('2026-03-02/piha.jsonl', lines(4, 5));
    await put('2026-03-01/piha.jsonl.gz', gzipSync(lines(1, 3)));
    await put('2026-03-01/_hub.jsonl', '');
    const reader = new FsEventLogReader({ root });
    expect(await reader.streams()).toEqual(['_hub', 'piha']);
    const all = await collect(reader, null);
    expect(all.map((r) => r.record.event.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(all[2]!.next).toEqual({ file: '2026-03-01/piha.jsonl.gz', offset: lines(1, 3).length });
  });

  it('resumes exactly after a position, also across a day boundary and a later compression', async () => {
    await put('2026-03-01/piha.jsonl', lines(1, 3));
    await put('2026-03-02/piha.jsonl', lines(4, 5));
    const reader = new FsEventLogReader({ root });
    const first = await collect(reader, null);
    expect((await collect(reader, first[1]!.next)).map((r) => r.record.event.seq)).toEqual([3, 4, 5]);
    expect(await collect(reader, first[4]!.next)).toEqual([]);
    // Retention compresses day 1 after the scan; the position (uncompressed offset) still holds.
    await fs.rm(path.join(root, 'events/2026-03-01/piha.jsonl'));
    await put('2026-03-01/piha.jsonl.gz', gzipSync(lines(1, 3)));
    expect((await collect(reader, first[0]!.next)).map((r) => r.record.event.seq)).toEqual([2, 3, 4, 5]);
  });

  it('leaves a last line without newline for the next read, then reads it once complete', async () => {
    const abs = await put('2026-03-01/piha.jsonl', line(1) + line(2).slice(0, 20));
    const reader = new FsEventLogReader({ root });
    const first = await collect(reader, null);
    expect(first.map((r) => r.record.event.seq)).toEqual([1]);
    await fs.appendFile(abs, line(2).slice(20));
    expect((await collect(reader, first[0]!.next)).map((r) => r.record.event.seq)).toEqual([2]);
    expect(reader.corruptLines).toBe(0);
  });

  it('stops at the durable size a same-process writer reports', async () => {
    await put('2026-03-01/piha.jsonl', lines(1, 3));
    const committed = { committedSize: (rel: string) => (rel === '2026-03-01/piha.jsonl' ? lines(1, 2).length : undefined) };
    const got = await collect(new FsEventLogReader({ root, committed }), null);
    expect(got.map((r) => r.record.event.seq)).toEqual([1, 2]);
  });

  it('rereads a file from its start when the position is no longer a line start', async () => {
    await put('2026-03-01/piha.jsonl', lines(1, 3));
    const cap = captureLog();
    const got = await collect(new FsEventLogReader({ root, log: cap.logger }), { file: '2026-03-01/piha.jsonl', offset: 5 });
    expect(got.map((r) => r.record.event.seq)).toEqual([1, 2, 3]);
    expect(cap.entries.some((e) => e.level === 'warn')).toBe(true);
  });

  it('refuses a position of another stream and a stream name that is not one', async () => {
    const reader = new FsEventLogReader({ root });
    await expect(collect(reader, { file: '2026-03-01/other.jsonl', offset: 0 })).rejects.toThrow(/invalid position/);
    await expect(collect(reader, null, '../x')).rejects.toThrow(/invalid stream name/);
  });

  it('skips a huge line without newlines in bounded memory and reads on after it', async () => {
    const junk = Buffer.alloc(9 * 1024 * 1024, 0x41);
    await put('2026-03-01/piha.jsonl', Buffer.concat([Buffer.from(line(1)), junk, Buffer.from(`\n${line(2)}`)]));
    const reader = new FsEventLogReader({ root, chunkBytes: 256 * 1024 });
    const got = await collect(reader, null);
    expect(got.map((r) => r.record.event.seq)).toEqual([1, 2]);
    expect(reader.corruptLines).toBe(1);
    expect(got[1]!.next.offset).toBe(line(1).length + junk.length + 1 + line(2).length);
  });

  it('streams 50k records with small chunks in order, offsets matching the bytes', async () => {
    const n = 50_000;
    const content = lines(1, n);
    await put('2026-03-01/piha.jsonl', content);
    const reader = new FsEventLogReader({ root, chunkBytes: 4096 });
    let expected = 1;
    let last: LogRecord | undefined;
    for await (const r of reader.read('piha', null)) {
      if (r.record.event.seq !== expected) throw new Error(`seq ${r.record.event.seq} at ${expected}`);
      expected++;
      last = r;
    }
    expect(expected).toBe(n + 1);
    expect(last!.next.offset).toBe(Buffer.byteLength(content));
  });
});
