import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '@homelab/testkit';
import { Outbox, type OutboxOptions } from './outbox';
import { summarizeDrops } from './outbox-entries';
import { silentLog } from '../testing/fakes';

const line = (seq: number, pad = 0) =>
  JSON.stringify({ id: `n1-${seq}`, node: 'n1', seq, ts: '2026-01-01T00:00:00.000Z', type: 'node_heartbeat', data: { services: pad } });
const size = (seq: number) => Buffer.byteLength(line(seq)) + 1;
const seqs = (box: Outbox) => box.unacked.toArray().map((e) => e.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('Outbox', () => {
  let tmp: TempDir;
  let dir: string;
  const boxes: Outbox[] = [];
  const open = async (opts: Partial<OutboxOptions> = {}) => {
    const box = new Outbox({ dir, maxBytes: 1024 * 1024, log: silentLog, ...opts });
    await box.open();
    boxes.push(box);
    return box;
  };
  const segmentFiles = async () => (await fs.readdir(dir)).filter((n) => n.startsWith('seg-')).sort();
  const appendAll = (box: Outbox, list: number[]) => Promise.all(list.map((s) => box.append(s, line(s))));

  beforeEach(async () => {
    tmp = await makeTempDir('hl-outbox');
    dir = path.join(tmp.path, 'outbox');
  });
  afterEach(async () => {
    for (const b of boxes.splice(0)) await b.close();
    await tmp.cleanup();
  });

  it('keeps unacknowledged events across a restart, in seq order', async () => {
    const a = await open();
    for (const s of [1, 2, 3]) await a.append(s, line(s));
    await a.close();
    const b = await open();
    expect(seqs(b)).toEqual([1, 2, 3]);
    expect(b.maxSeq()).toBe(3);
    expect(b.backlog()).toEqual({ events: 3, untilSeq: 3 });
  });

  it('group-commits concurrent appends: 2,000 events in a handful of fdatasyncs, each resolved only once on disk', async () => {
    const box = await open();
    const durableAt: number[] = [];
    await Promise.all(
      range(1, 2000).map(async (s) => {
        await box.append(s, line(s));
        // The append resolved: the line must already be in a segment file.
        if (s % 400 === 0) {
          const text = (await Promise.all((await segmentFiles()).map((n) => fs.readFile(path.join(dir, n), 'utf8')))).join('');
          if (text.includes(line(s))) durableAt.push(s);
        }
      }),
    );
    expect(durableAt.sort((a, b) => a - b)).toEqual([400, 800, 1200, 1600, 2000]);
    expect(seqs(box)).toEqual(range(1, 2000));
    // The first append is written alone; everything queued behind it shares the next write(s), one per segment.
    expect(box.stats().syncs).toBeLessThanOrEqual(1 + Math.ceil((2000 * size(2000)) / (64 * 1024)));
  });

  it('forgets events up to the acked seq and deletes a segment once all of it is acked', async () => {
    const box = await open({ segmentBytes: size(10) * 5 });
    for (const s of range(10, 29)) await box.append(s, line(s));
    expect(await segmentFiles()).toHaveLength(4);
    expect(await box.ack(22)).toBe(13);
    expect(seqs(box)).toEqual(range(23, 29));
    expect(await segmentFiles()).toHaveLength(2); // 10-14 and 15-19 are gone; 20-24 still holds 23 and 24
    await box.ack(29);
    expect(box.stats()).toMatchObject({ entries: 0, bytes: 0 });
    await box.append(30, line(30));
    expect(await segmentFiles()).toHaveLength(1);
    await box.close();
    expect(seqs(await open())).toEqual([30]);
  });

  it('compacts without rewriting: acking a long backlog one event at a time costs no writes at all', async () => {
    const box = await open({ segmentBytes: 16 * 1024 });
    await appendAll(box, range(1, 3000));
    const syncs = box.stats().syncs;
    const before = box.stats().segments;
    for (const s of range(1, 2990)) await box.ack(s);
    expect(box.stats().syncs).toBe(syncs);
    expect(box.stats().segments).toBeLessThanOrEqual(2);
    expect(before).toBeGreaterThan(10);
    expect(seqs(box)).toEqual(range(2991, 3000));
  });

  it('does not resend acked events after a clean restart (ack floor), and resends them after a lost floor', async () => {
    const a = await open();
    for (const s of range(1, 5)) await a.append(s, line(s));
    await a.ack(3);
    await a.close();
    expect(seqs(await open())).toEqual([4, 5]);
    await boxes.pop()!.close();
    await fs.rm(path.join(dir, 'acked.json'));
    expect(seqs(await open())).toEqual([1, 2, 3, 4, 5]); // the hub's dedup by (node, seq) absorbs these
  });

  it('drops a torn last line at open and keeps appending cleanly after the valid prefix', async () => {
    const full = `${line(1)}\n${line(2)}\n`;
    for (let cut = full.length - line(2).length; cut < full.length - 1; cut += 7) {
      await fs.rm(dir, { recursive: true, force: true });
      await fs.mkdir(dir, { recursive: true });
      await fs.writeFile(path.join(dir, 'seg-000000000001.jsonl'), full.slice(0, cut));
      const box = await open();
      expect(seqs(box)).toEqual([1]);
      await box.append(3, line(3));
      await box.close();
      boxes.pop();
      expect(await fs.readFile(path.join(dir, 'seg-000000000001.jsonl'), 'utf8')).toBe(`${line(1)}\n${line(3)}\n`);
    }
  });

  it('ignores garbage lines and keeps appending cleanly after them', async () => {
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'seg-000000000001.jsonl'), `${line(1)}\nnot json\n{"seq":"x"}\n`);
    const box = await open();
    await box.append(2, line(2));
    await box.close();
    expect(seqs(await open())).toEqual([1, 2]);
  });

  it('adopts the single-file outbox.jsonl of earlier versions', async () => {
    const legacyFile = path.join(tmp.path, 'outbox.jsonl');
    await fs.writeFile(legacyFile, `${line(7)}\n${line(8)}\n`);
    const box = await open({ legacyFile });
    expect(seqs(box)).toEqual([7, 8]);
    await expect(fs.stat(legacyFile)).rejects.toThrow();
  });

  // Seqs 10-99 all have the same line length, which keeps the segment arithmetic exact.
  it('stays within its byte cap by dropping the oldest segment, and reports drops coalesced until taken', async () => {
    const seg = size(10) * 4;
    const box = await open({ maxBytes: seg * 3, segmentBytes: seg });
    let notified = 0;
    box.onDrops(() => (notified += 1));
    for (const s of range(10, 21)) await box.append(s, line(s));
    expect(box.stats()).toMatchObject({ dropped: 0, segments: 3 });
    await box.append(22, line(22));
    expect(seqs(box)).toEqual(range(14, 22));
    expect(box.stats().fileBytes).toBeLessThanOrEqual(seg * 3);
    expect(box.stats().dropped).toBe(4);
    expect(notified).toBe(1);
    expect(box.takeDrops()).toEqual({ count: 4, fromSeq: 10, toSeq: 13 });
    expect(box.takeDrops()).toBeNull();
    // A burst that overflows by several segments: one report covering all of it.
    await appendAll(box, range(23, 40));
    const report = box.takeDrops()!;
    expect(report.fromSeq).toBe(14);
    expect(report.count).toBe(report.toSeq - 13);
    expect(seqs(box)[0]).toBe(report.toSeq + 1);
    expect(seqs(box).at(-1)).toBe(40);
    await box.close();
    const files = await segmentFiles();
    const onDisk = (await Promise.all(files.map((n) => fs.stat(path.join(dir, n))))).reduce((n, st) => n + st.size, 0);
    expect(onDisk).toBeLessThanOrEqual(seg * 3);
  });

  it('applies a lowered cap at open', async () => {
    const a = await open({ segmentBytes: size(10) * 2 });
    for (const s of range(10, 19)) await a.append(s, line(s));
    await a.close();
    const b = await open({ segmentBytes: size(10) * 2, maxBytes: size(10) * 4 });
    expect(seqs(b)).toEqual([16, 17, 18, 19]);
    expect(b.takeDrops()).toEqual({ count: 6, fromSeq: 10, toSeq: 15 });
  });
});

describe('summarizeDrops', () => {
  it('folds the count and range of a dropped events_dropped event into the new report', () => {
    const dropped = JSON.stringify({
      id: 'n1-50',
      node: 'n1',
      seq: 50,
      ts: '2026-01-01T00:00:00.000Z',
      type: 'events_dropped',
      data: { count: 40, fromSeq: 1, toSeq: 40, reason: 'outbox_full' },
    });
    const entries = [49, 50, 51].map((seq) => ({ seq, line: seq === 50 ? dropped : line(seq), bytes: 1 }));
    expect(summarizeDrops(entries)).toEqual({ count: 43, fromSeq: 1, toSeq: 51 });
  });

  it('does not mistake a detail string that mentions events_dropped for the event', () => {
    const tricky = JSON.stringify({
      id: 'n1-2',
      node: 'n1',
      seq: 2,
      ts: '2026-01-01T00:00:00.000Z',
      type: 'docker_unreachable',
      data: { detail: '"type":"events_dropped"' },
    });
    expect(summarizeDrops([{ seq: 2, line: tricky, bytes: 1 }])).toEqual({ count: 1, fromSeq: 2, toSeq: 2 });
  });
});
