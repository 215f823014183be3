import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '@homelab/testkit';
import { Outbox } from './outbox';
import { silentLog } from './testing/fakes';

const line = (seq: number, pad = 0) =>
  JSON.stringify({ id: `n1-${seq}`, node: 'n1', seq, ts: '2026-01-01T00:00:00.000Z', type: 'node_heartbeat', data: { services: pad } });

describe('Outbox', () => {
  let tmp: TempDir;
  let file: string;
  const boxes: Outbox[] = [];
  const open = async (maxBytes = 1024 * 1024, compactAfterBytes?: number) => {
    const box = new Outbox({ file, maxBytes, log: silentLog, compactAfterBytes });
    await box.open();
    boxes.push(box);
    return box;
  };
  beforeEach(async () => {
    tmp = await makeTempDir('hl-outbox');
    file = path.join(tmp.path, 'outbox.jsonl');
  });
  afterEach(async () => {
    for (const b of boxes.splice(0)) await b.close();
    await tmp.cleanup();
  });

  it('keeps unacknowledged events across a restart, in seq order', async () => {
    const a = await open();
    for (const s of [1, 2, 3]) await a.append(s, line(s));
    const b = await open();
    expect(b.pending().map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(b.maxSeq()).toBe(3);
  });

  it('forgets events up to the acked seq and empties the file when all are acked', async () => {
    const a = await open();
    for (const s of [1, 2, 3]) await a.append(s, line(s));
    expect(await a.ack(2)).toBe(2);
    expect(a.pending().map((e) => e.seq)).toEqual([3]);
    await a.ack(3);
    expect(a.stats()).toMatchObject({ entries: 0, bytes: 0, fileBytes: 0 });
    expect(await fs.readFile(file, 'utf8')).toBe('');
    await a.append(4, line(4));
    expect((await open()).pending().map((e) => e.seq)).toEqual([4]);
  });

  it('drops a torn last line at open and keeps the valid prefix', async () => {
    const full = `${line(1)}\n${line(2)}\n`;
    for (let cut = full.length - line(2).length; cut < full.length - 1; cut += 7) {
      await fs.writeFile(file, full.slice(0, cut));
      const box = await open();
      expect(box.pending().map((e) => e.seq)).toEqual([1]);
      expect(await fs.readFile(file, 'utf8')).toBe(`${line(1)}\n`);
      await box.close();
    }
  });

  it('ignores garbage lines and keeps appending cleanly after them', async () => {
    await fs.writeFile(file, `${line(1)}\nnot json\n{"seq":"x"}\n`);
    const box = await open();
    await box.append(2, line(2));
    expect((await open()).pending().map((e) => e.seq)).toEqual([1, 2]);
  });

  it('stays within its byte cap by dropping the oldest events and counting them', async () => {
    const size = Buffer.byteLength(line(1)) + 1;
    const box = await open(size * 3 + 1);
    for (let s = 1; s <= 5; s++) await box.append(s, line(s));
    expect(box.pending().map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(box.stats().dropped).toBe(2);
    expect(box.stats().bytes).toBeLessThanOrEqual(size * 3 + 1);
  });

  it('compacts the file once acknowledged lines pile up', async () => {
    const box = await open(1024 * 1024, 500);
    for (let s = 1; s <= 20; s++) await box.append(s, line(s));
    await box.ack(15);
    const text = await fs.readFile(file, 'utf8');
    expect(text.trim().split('\n').map((l) => JSON.parse(l).seq)).toEqual([16, 17, 18, 19, 20]);
    await box.append(21, line(21));
    expect((await open()).pending().map((e) => e.seq)).toEqual([16, 17, 18, 19, 20, 21]);
  });
});
