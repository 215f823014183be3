import fs from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeLine } from './line-codec';
import { FsEventLog } from './fs-event-log';
import { FsEventLogReader } from './fs-event-log-reader';
import { captureLog, heartbeat, tempRoot } from './test-support';

const RX = '2026-03-01T10:00:00.000Z';
const line = (seq: number) => encodeLine({ event: heartbeat('piha', seq), rx: RX });

let root: string;
let cleanup: () => Promise<void>;
let file: string;
beforeEach(async () => {
  ({ root, cleanup } = await tempRoot());
  file = path.join(root, 'events/2026-03-01/piha.jsonl');
  await fs.mkdir(path.dirname(file), { recursive: true });
});
afterEach(() => cleanup());

async function seqs(): Promise<number[]> {
  const out: number[] = [];
  for await (const r of new FsEventLogReader({ root }).read('piha', null)) out.push(r.record.event.seq);
  return out;
}

describe('opening the event log', () => {
  const good = line(1) + line(2);
  const torn = line(3);
  const cuts = [1, 2, Math.floor(torn.length / 2), torn.length - 2, torn.length - 1];

  it.each(cuts)('cuts a last line torn after %i bytes back to the last good line and logs the repair', async (cut) => {
    await fs.writeFile(file, good + torn.slice(0, cut));
    const cap = captureLog();
    const log = new FsEventLog({ root, log: cap.logger });
    await log.open();

    expect(await fs.readFile(file, 'utf8')).toBe(good);
    expect(log.highestSeq('piha')).toBe(2);
    const warn = cap.entries.find((e) => e.level === 'warn');
    expect(warn?.obj).toMatchObject({ file: 'events/2026-03-01/piha.jsonl', bytesRemoved: cut });
    // The torn event was never acked, so the agent resends it and it is written, not a duplicate.
    expect((await log.append('piha', [heartbeat('piha', 3)], new Date(RX))).written).toHaveLength(1);
    await log.close();
    expect(await seqs()).toEqual([1, 2, 3]);
  });

  it('cuts trailing garbage lines, even newline-terminated ones', async () => {
    await fs.writeFile(file, `${good}garbage\n\u0000\u0000\n{"event":`);
    const log = new FsEventLog({ root, log: captureLog().logger });
    await log.open();
    expect(await fs.readFile(file, 'utf8')).toBe(good);
    await log.close();
  });

  it('keeps a file that ends cleanly untouched', async () => {
    await fs.writeFile(file, good);
    const cap = captureLog();
    const log = new FsEventLog({ root, log: cap.logger });
    await log.open();
    expect(await fs.readFile(file, 'utf8')).toBe(good);
    expect(cap.entries.filter((e) => e.level === 'warn')).toEqual([]);
    await log.close();
  });

  it('leaves a corrupt line in the middle in place; readers skip it, count it once and log file and offset', async () => {
    await fs.writeFile(file, `${line(1)}not json at all\n${line(2)}`);
    const log = new FsEventLog({ root, log: captureLog().logger });
    await log.open();
    expect(log.highestSeq('piha')).toBe(2);
    await log.close();

    const cap = captureLog();
    const reader = new FsEventLogReader({ root, log: cap.logger });
    const read = async () => {
      const out: number[] = [];
      for await (const r of reader.read('piha', null)) out.push(r.record.event.seq);
      return out;
    };
    expect(await read()).toEqual([1, 2]);
    expect(reader.corruptLines).toBe(1);
    expect(cap.entries.find((e) => e.level === 'warn')?.obj).toMatchObject({ file: 'events/2026-03-01/piha.jsonl', offset: line(1).length });
    await read();
    expect(reader.corruptLines).toBe(1);
  });

  it('learns the high-water seq from an older file when the newest one is empty', async () => {
    await fs.writeFile(file, good);
    const newer = path.join(root, 'events/2026-03-02/piha.jsonl');
    await fs.mkdir(path.dirname(newer), { recursive: true });
    await fs.writeFile(newer, '{"ev');
    const log = new FsEventLog({ root, log: captureLog().logger });
    await log.open();
    expect(log.highestSeq('piha')).toBe(2);
    expect(await fs.readFile(newer, 'utf8')).toBe('');
    await log.close();
  });

  it('learns the high-water seq from a compressed day', async () => {
    await fs.rm(file, { force: true });
    await fs.writeFile(`${file}.gz`, gzipSync(Buffer.from(good + line(3))));
    const log = new FsEventLog({ root, log: captureLog().logger });
    await log.open();
    expect(log.highestSeq('piha')).toBe(3);
    await log.close();
  });

  it('ignores files and folders that are not part of the log', async () => {
    await fs.writeFile(file, good);
    await fs.writeFile(path.join(root, 'events/2026-03-01/piha.jsonl.tmp'), 'x');
    await fs.writeFile(path.join(root, 'events/2026-03-01/Bad Name.jsonl'), 'x');
    await fs.mkdir(path.join(root, 'events/lost+found'));
    const log = new FsEventLog({ root, log: captureLog().logger });
    await log.open();
    expect(log.highestSeq('piha')).toBe(2);
    expect(await new FsEventLogReader({ root }).streams()).toEqual(['piha']);
    await log.close();
  });
});
