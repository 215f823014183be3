import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HUB_STREAM, type StoredEvent } from '@homelab/contracts';
import { AppendFile, EventLogWriteError } from './append-file';
import { FsEventLog } from './fs-event-log';
import { FsEventLogReader } from './fs-event-log-reader';
import { captureLog, heartbeat, tempRoot } from './test-support';

const DAY1 = new Date('2026-03-01T10:00:00.000Z');
const DAY2 = new Date('2026-03-02T10:00:00.000Z');

let root: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ root, cleanup } = await tempRoot());
});
afterEach(async () => {
  vi.restoreAllMocks();
  await cleanup();
});

async function readAll(stream: string, reader = new FsEventLogReader({ root })): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const r of reader.read(stream, null)) out.push(r.record);
  return out;
}

async function openLog(log = captureLog()) {
  const l = new FsEventLog({ root, log: log.logger });
  await l.open();
  return l;
}

describe('FsEventLog', () => {
  it('writes one JSON line per event under events/<rx date>/<stream>.jsonl and reads them back in order', async () => {
    const log = await openLog();
    await log.append('piha', [heartbeat('piha', 1), heartbeat('piha', 2)], DAY1);
    await log.append('piha', [heartbeat('piha', 3)], DAY2);
    await log.close();

    const day1 = await fs.readFile(path.join(root, 'events/2026-03-01/piha.jsonl'), 'utf8');
    expect(day1.split('\n')).toHaveLength(3);
    expect(JSON.parse(day1.split('\n')[0]!)).toEqual({ event: heartbeat('piha', 1), rx: DAY1.toISOString() });
    const records = await readAll('piha');
    expect(records.map((r) => r.event.seq)).toEqual([1, 2, 3]);
    expect(records[2]!.rx).toBe(DAY2.toISOString());
  });

  it('drops events at or below the stream high-water seq as duplicates', async () => {
    const log = await openLog();
    const first = await log.append('piha', [heartbeat('piha', 1), heartbeat('piha', 2)], DAY1);
    expect(first).toMatchObject({ highestSeq: 2, duplicates: [] });
    const again = await log.append('piha', [heartbeat('piha', 2), heartbeat('piha', 3)], DAY1);
    expect(again.written.map((r) => r.event.seq)).toEqual([3]);
    expect(again.duplicates.map((e) => e.seq)).toEqual([2]);
    expect(again.highestSeq).toBe(3);
    const other = await log.append('chelsty-ha', [heartbeat('chelsty-ha', 1)], DAY1);
    expect(other.written).toHaveLength(1);
    await log.close();
    expect((await readAll('piha')).map((r) => r.event.seq)).toEqual([1, 2, 3]);
  });

  it('resolves every concurrent append after a shared write and fdatasync per file', async () => {
    const appendSpy = vi.spyOn(AppendFile.prototype, 'append');
    const log = await openLog();
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) => log.append(i % 2 ? 'piha' : HUB_STREAM, [heartbeat('piha', Math.floor(i / 2) + 1)], DAY1)),
    );
    expect(outcomes.every((o) => o.written.length === 1)).toBe(true);
    // All 200 calls landed in one batch: one write+fdatasync for each of the two files.
    expect(appendSpy).toHaveBeenCalledTimes(2);
    expect(log.highestSeq('piha')).toBe(100);
    expect(log.highestSeq(HUB_STREAM)).toBe(100);
    await log.close();
  });

  it('answers an overlapping resend only after the lines it was deduped against are durable', async () => {
    const log = await openLog();
    const a = log.append('piha', [heartbeat('piha', 1), heartbeat('piha', 2)], DAY1);
    const b = log.append('piha', [heartbeat('piha', 1), heartbeat('piha', 2)], DAY1);
    expect((await b).highestSeq).toBe(2);
    expect((await a).written).toHaveLength(2);
    await log.close();
  });

  it('keeps the highest seq of every stream across a reopen', async () => {
    const log = await openLog();
    await log.append('piha', [heartbeat('piha', 7)], DAY1);
    await log.append('piha', [heartbeat('piha', 9)], DAY2);
    await log.append(HUB_STREAM, [heartbeat('piha', 4)], DAY1);
    await log.close();
    const again = await openLog();
    expect(again.highestSeq('piha')).toBe(9);
    expect(again.highestSeq(HUB_STREAM)).toBe(4);
    expect((await again.append('piha', [heartbeat('piha', 9)], DAY2)).duplicates).toHaveLength(1);
    await again.close();
  });

  it('never writes into an older day when the hub clock jumps back', async () => {
    const log = await openLog();
    await log.append('piha', [heartbeat('piha', 1)], DAY2);
    await log.append('piha', [heartbeat('piha', 2)], DAY1);
    await log.close();
    await expect(fs.access(path.join(root, 'events/2026-03-01'))).rejects.toThrow();
    const records = await readAll('piha');
    expect(records.map((r) => [r.event.seq, r.rx])).toEqual([
      [1, DAY2.toISOString()],
      [2, DAY1.toISOString()],
    ]);
  });

  it('rejects a failed write with a clear error, leaves no partial line, and accepts the resend', async () => {
    const log = await openLog();
    await log.append('piha', [heartbeat('piha', 1)], DAY1);
    const file = path.join(root, 'events/2026-03-01/piha.jsonl');
    const before = (await fs.stat(file)).size;
    // Simulate a disk filling up mid-write: a short write, then ENOSPC.
    const fh = await fs.open(file, 'r');
    const proto = Object.getPrototypeOf(fh) as { write: (...a: unknown[]) => Promise<{ bytesWritten: number }> };
    await fh.close();
    const realWrite = proto.write;
    let calls = 0;
    vi.spyOn(proto, 'write').mockImplementation(function (this: unknown, ...args: unknown[]) {
      calls++;
      if (calls === 1) return realWrite.call(this, args[0], args[1], 10, args[3]);
      return Promise.reject(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
    });
    const failed = log.append('piha', [heartbeat('piha', 2), heartbeat('piha', 3)], DAY1);
    await expect(failed).rejects.toBeInstanceOf(EventLogWriteError);
    await expect(failed).rejects.toThrow(/ENOSPC/);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect((await fs.stat(file)).size).toBe(before);
    expect(log.highestSeq('piha')).toBe(1);

    vi.restoreAllMocks();
    const resent = await log.append('piha', [heartbeat('piha', 2), heartbeat('piha', 3)], DAY1);
    expect(resent.written).toHaveLength(2);
    await log.close();
    expect((await readAll('piha')).map((r) => r.event.seq)).toEqual([1, 2, 3]);
  });

  it('refuses invalid events and stream names without writing anything', async () => {
    const log = await openLog();
    const bad = { ...heartbeat('piha', 1), seq: -1 };
    await expect(log.append('piha', [heartbeat('piha', 1), bad], DAY1)).rejects.toThrow(/event 1 is invalid/);
    await expect(log.append('../etc', [heartbeat('piha', 1)], DAY1)).rejects.toThrow(/invalid stream name/);
    expect(log.highestSeq('piha')).toBeNull();
    await log.close();
    await expect(log.append('piha', [heartbeat('piha', 1)], DAY1)).rejects.toThrow(/closed/);
  });
});
