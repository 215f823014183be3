import fs from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '@homelab/contracts';
import { RAW_COPY_BYTES } from './corrupt-lines';
import { FsEventLog } from './fs-event-log';
import { FsEventLogReader } from './fs-event-log-reader';
import { encodeLine } from './line-codec';
import { quarantineCorruptLines, quarantineDir, readQuarantine } from './quarantine';
import { captureLog, heartbeat, tempRoot } from './test-support';

const RX = '2026-03-01T10:00:00.000Z';
const line = (seq: number) => encodeLine({ event: heartbeat('piha', seq), rx: RX });
const NOT_JSON = '{"event": garbage';
const WRONG_SHAPE = '{"event":{"seq":3},"rx":"yesterday"}';

let root: string;
let cleanup: () => Promise<void>;
let file: string;
beforeEach(async () => {
  ({ root, cleanup } = await tempRoot());
  file = path.join(root, 'events/2026-03-01/piha.jsonl');
  await fs.mkdir(path.dirname(file), { recursive: true });
});
afterEach(() => cleanup());

async function openAndClose(cap = captureLog()) {
  const log = new FsEventLog({ root, log: cap.logger, clock: new ManualClock('2026-03-05T00:00:00.000Z') });
  await log.open();
  await log.close();
  return cap;
}

async function seqs(): Promise<number[]> {
  const out: number[] = [];
  for await (const r of new FsEventLogReader({ root }).read('piha', null)) out.push(r.record.event.seq);
  return out;
}

const quarantineWarnings = (cap: ReturnType<typeof captureLog>) => cap.entries.filter((e) => e.msg.startsWith('quarantined corrupt'));

describe('quarantine of corrupt lines', () => {
  it('copies a corrupt line in the middle of a file with file, offset, reason and raw bytes at open, and readers keep skipping it', async () => {
    const content = line(1) + NOT_JSON + '\n' + line(2) + WRONG_SHAPE + '\n' + line(4);
    await fs.writeFile(file, content);
    const cap = await openAndClose();

    expect(await fs.readFile(file, 'utf8')).toBe(content); // the log itself is never changed
    const entries = await readQuarantine(root, '2026-03-01', 'piha');
    expect(entries.map((e) => ({ file: e.file, offset: e.offset, length: e.length, at: e.quarantinedAt }))).toEqual([
      { file: '2026-03-01/piha.jsonl', offset: line(1).length, length: NOT_JSON.length, at: '2026-03-05T00:00:00.000Z' },
      {
        file: '2026-03-01/piha.jsonl',
        offset: line(1).length + NOT_JSON.length + 1 + line(2).length,
        length: WRONG_SHAPE.length,
        at: '2026-03-05T00:00:00.000Z',
      },
    ]);
    expect(Buffer.from(entries[0]!.raw, 'base64').toString()).toBe(NOT_JSON);
    expect(Buffer.from(entries[1]!.raw, 'base64').toString()).toBe(WRONG_SHAPE);
    expect(entries[0]!.reason).toMatch(/^not JSON/);
    expect(entries[1]!.reason).toMatch(/^not a StoredEvent/);
    expect(quarantineWarnings(cap)).toHaveLength(2);
    expect(await seqs()).toEqual([1, 2, 4]);
  });

  it('quarantines each line once: reopening, or losing the scan state, adds no entry and logs nothing again', async () => {
    await fs.writeFile(file, line(1) + NOT_JSON + '\n' + line(2));
    await openAndClose();
    const again = await openAndClose();
    expect(quarantineWarnings(again)).toHaveLength(0);
    await fs.rm(path.join(quarantineDir(root), 'scan-state.json'));
    const rescanned = await openAndClose();
    expect(quarantineWarnings(rescanned)).toHaveLength(0);
    expect(await readQuarantine(root, '2026-03-01', 'piha')).toHaveLength(1);
  });

  it('checks only bytes appended since the last scan', async () => {
    await fs.writeFile(file, line(1) + NOT_JSON + '\n' + line(2));
    expect(await quarantineCorruptLines(root)).toMatchObject({ quarantined: 1, bytesScanned: (line(1) + NOT_JSON + '\n' + line(2)).length });
    await fs.appendFile(file, 'xx\n' + line(3));
    expect(await quarantineCorruptLines(root)).toMatchObject({ quarantined: 1, bytesScanned: 3 + line(3).length });
    expect(await quarantineCorruptLines(root)).toMatchObject({ quarantined: 0, bytesScanned: 0, filesScanned: 0 });
    expect((await readQuarantine(root, '2026-03-01', 'piha')).map((e) => Buffer.from(e.raw, 'base64').toString())).toEqual([NOT_JSON, 'xx']);
  });

  it('keys a gzipped day by its uncompressed offsets, so compression quarantines nothing twice', async () => {
    const content = line(1) + NOT_JSON + '\n' + line(2);
    await fs.writeFile(file, content);
    await quarantineCorruptLines(root);
    await fs.writeFile(`${file}.gz`, gzipSync(content));
    await fs.rm(file);
    // Known from the plain file's scan and the gzip trailer: not even decompressed.
    expect(await quarantineCorruptLines(root)).toMatchObject({ quarantined: 0, filesScanned: 0 });
    expect(await quarantineCorruptLines(root)).toMatchObject({ quarantined: 0, filesScanned: 0 });

    // A day that arrives already compressed is scanned once, offsets uncompressed.
    const day2 = path.join(root, 'events/2026-03-02/piha.jsonl.gz');
    await fs.mkdir(path.dirname(day2), { recursive: true });
    await fs.writeFile(day2, gzipSync(line(3) + 'junk\n'));
    expect(await quarantineCorruptLines(root)).toMatchObject({ quarantined: 1 });
    expect(await quarantineCorruptLines(root)).toMatchObject({ quarantined: 0, filesScanned: 0 });
    expect(await readQuarantine(root, '2026-03-02', 'piha')).toMatchObject([{ file: '2026-03-02/piha.jsonl', offset: line(3).length, length: 4 }]);
  });

  it('leaves the torn tail to the repair: it is cut, not quarantined', async () => {
    await fs.writeFile(file, line(1) + line(2).slice(0, 30));
    await openAndClose();
    expect(await fs.readFile(file, 'utf8')).toBe(line(1));
    expect(await readQuarantine(root, '2026-03-01', 'piha')).toEqual([]);
  });

  it('copies the first MiB of a line longer than any event, recording its full length', async () => {
    const huge = Buffer.alloc(9 * 1024 * 1024, 0x41);
    await fs.writeFile(file, Buffer.concat([Buffer.from(line(1)), huge, Buffer.from('\n' + line(2))]));
    await openAndClose();
    const [entry] = await readQuarantine(root, '2026-03-01', 'piha');
    expect(entry).toMatchObject({ offset: line(1).length, length: huge.length, rawBytes: RAW_COPY_BYTES });
    expect(entry!.reason).toMatch(/longer than/);
    expect(await seqs()).toEqual([1, 2]);
  });

  it('is never fatal: when the quarantine cannot be written, open succeeds, logs the error, and retries next time', async () => {
    await fs.writeFile(file, line(1) + NOT_JSON + '\n' + line(2));
    await fs.writeFile(quarantineDir(root), 'not a directory');
    const cap = await openAndClose();
    expect(cap.entries.some((e) => e.level === 'error')).toBe(true);
    expect(await seqs()).toEqual([1, 2]);

    await fs.rm(quarantineDir(root));
    await openAndClose();
    expect(await readQuarantine(root, '2026-03-01', 'piha')).toHaveLength(1);
  });
});
