import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HomelabEvent, StoredEvent } from '@homelab/contracts';
import { FsEventLog } from './fs-event-log';
import { FsEventLogReader } from './fs-event-log-reader';
import { encodeLine } from './line-codec';
import type { LogPosition, LogRecord } from './port';
import { RECENT_APPENDS_MAX_BYTES, RecentAppends } from './recent-appends';
import { heartbeat, tempRoot } from './test-support';

const RX = new Date('2026-03-01T10:00:00.000Z');
const rec = (seq: number): StoredEvent => ({ event: heartbeat('piha', seq), rx: RX.toISOString() });
const bytesOf = (records: StoredEvent[]) => Buffer.from(records.map(encodeLine).join(''));

describe('RecentAppends', () => {
  it('hands out an append only to a read starting where it starts, with the offsets its lines end at', () => {
    const recent = new RecentAppends();
    const a = [rec(1), rec(2)];
    const b = [rec(3)];
    recent.add('d/piha.jsonl', 0, bytesOf(a), a);
    recent.add('d/piha.jsonl', bytesOf(a).length, bytesOf(b), b);
    expect(recent.take('d/piha.jsonl', 5)).toBeUndefined();
    expect(recent.take('d/other.jsonl', 0)).toBeUndefined();
    const first = recent.take('d/piha.jsonl', 0)!;
    expect(first.records).toEqual(a);
    expect(first.ends).toEqual([encodeLine(a[0]!).length, bytesOf(a).length]);
    // Taken once: a second read at the same place goes to the file.
    expect(recent.take('d/piha.jsonl', 0)).toBeUndefined();
    expect(recent.take('d/piha.jsonl', bytesOf(a).length)!.ends).toEqual([bytesOf(a).length + bytesOf(b).length]);
    expect(recent.size).toBe(0);
  });

  it('forgets earlier appends of a file when a later one is taken, and the oldest beyond its byte limit', () => {
    const recent = new RecentAppends();
    const a = [rec(1)];
    const b = [rec(2)];
    recent.add('d/piha.jsonl', 0, bytesOf(a), a);
    recent.add('d/piha.jsonl', bytesOf(a).length, bytesOf(b), b);
    expect(recent.take('d/piha.jsonl', bytesOf(a).length)!.records).toEqual(b);
    expect(recent.take('d/piha.jsonl', 0)).toBeUndefined();

    const many = Array.from({ length: 1000 }, (_, i) => rec(i + 1));
    const chunk = bytesOf(many);
    const fits = Math.floor(RECENT_APPENDS_MAX_BYTES / chunk.length);
    for (let i = 0; i <= fits; i++) recent.add('d/piha.jsonl', i * chunk.length, chunk, many);
    expect(recent.size).toBeLessThanOrEqual(RECENT_APPENDS_MAX_BYTES);
    expect(recent.take('d/piha.jsonl', 0)).toBeUndefined();
    expect(recent.take('d/piha.jsonl', fits * chunk.length)!.records).toHaveLength(1000);
  });

  it('does not hold an append whose bytes are not one line per record', () => {
    const recent = new RecentAppends();
    recent.add('d/piha.jsonl', 0, Buffer.from(encodeLine(rec(1)).trimEnd()), [rec(1)]);
    recent.add('d/piha.jsonl', 100, bytesOf([rec(1), rec(2)]), [rec(1)]);
    expect(recent.size).toBe(0);
  });
});

describe('a reader of the log it is written with', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ root, cleanup } = await tempRoot());
  });
  afterEach(() => cleanup());

  async function collect(reader: FsEventLogReader, from: LogPosition | null): Promise<LogRecord[]> {
    const out: LogRecord[] = [];
    for await (const r of reader.read('piha', from)) out.push(r);
    return out;
  }

  it('reads what was just appended as a reader of the file alone does: same records, same positions', async () => {
    const log = new FsEventLog({ root });
    await log.open();
    const withLog = new FsEventLogReader({ root, committed: log });
    const fileOnly = new FsEventLogReader({ root });
    // A non-ASCII detail (UTF-8 bytes ≠ characters) and an event zod rewrites are among them.
    // Keys out of schema order and one zod strips: written as zod returns it.
    const unusual = {
      type: 'service_unhealthy',
      id: 'piha-4',
      node: 'piha',
      seq: 4,
      ts: '2026-01-01T00:00:00.000Z',
      service: 'grafana',
      data: { detail: 'ünïcode', reason: 'exited', extra: 1 },
    } as unknown as HomelabEvent;
    await log.append('piha', [heartbeat('piha', 1), heartbeat('piha', 2)], RX);
    await log.append('piha', [heartbeat('piha', 3), unusual], RX);
    await withLog.streams();
    await fileOnly.streams();
    const fromFile = await collect(fileOnly, null);
    // From the middle of an append (no held records start there) it reads the file.
    expect((await collect(withLog, fromFile[0]!.next)).map((r) => r.record)).toEqual(fromFile.slice(1).map((r) => r.record));
    const held = await collect(withLog, null);
    expect(held.map((r) => r.record)).toEqual(fromFile.map((r) => r.record));
    expect(held.map((r) => r.next)).toEqual(fromFile.map((r) => r.next));
    await log.append('piha', [heartbeat('piha', 5)], RX);
    const next = await collect(withLog, held.at(-1)!.next);
    expect(next.map((r) => r.record.event.seq)).toEqual([5]);
    expect(next[0]!.next.offset).toBe((await fs.stat(path.join(root, 'events', next[0]!.next.file))).size);
    await log.close();
  });
});
