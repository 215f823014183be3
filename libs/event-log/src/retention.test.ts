import fs from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, type HomelabEvent } from '@homelab/contracts';
import { FsEventLog } from './fs-event-log';
import { FsEventLogReader } from './fs-event-log-reader';
import { logInventory } from './inventory';
import type { LogPosition } from './port';
import { compressCutoff, compressOldDays } from './retention';
import { RetentionLoop } from './retention-loop';
import { captureLog, heartbeat, tempRoot } from './test-support';

let root: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ root, cleanup } = await tempRoot());
});
afterEach(() => cleanup());

const day = (d: number) => new Date(`2026-03-${String(d).padStart(2, '0')}T12:00:00.000Z`);
const NOW = new Date('2026-03-20T08:00:00.000Z');

/** piha writes on days 1..5, chelsty on days 1 and 2 only; one event per day each. */
async function writeLog(): Promise<void> {
  const log = new FsEventLog({ root });
  await log.open();
  for (let d = 1; d <= 5; d++) {
    await log.append('piha', [heartbeat('piha', d)], day(d));
    if (d <= 2) await log.append('chelsty', [heartbeat('chelsty', d)], day(d));
  }
  await log.close();
}

async function files(): Promise<string[]> {
  const out: string[] = [];
  for (const d of (await fs.readdir(path.join(root, 'events'))).sort()) {
    if (!/^\d{4}-/.test(d)) continue;
    for (const f of (await fs.readdir(path.join(root, 'events', d))).sort()) out.push(`${d}/${f}`);
  }
  return out;
}

async function read(stream: string, from: LogPosition | null = null): Promise<{ seqs: number[]; last: LogPosition | null }> {
  const seqs: number[] = [];
  let last: LogPosition | null = null;
  for await (const r of new FsEventLogReader({ root }).read(stream, from)) {
    seqs.push((r.record.event as HomelabEvent).seq);
    last = r.next;
  }
  return { seqs, last };
}

describe('compressOldDays', () => {
  it('dates its cutoff in whole UTC days before today', () => {
    expect(compressCutoff(new Date('2026-03-10T05:00:00.000Z'), 7)).toBe('2026-03-02');
    expect(compressCutoff(new Date('2026-03-10T23:59:59.000Z'), 1)).toBe('2026-03-08');
  });

  it('gzips old days, leaving today, recent days and the two newest files of every stream plain', async () => {
    await writeLog();
    const before = await Promise.all(['piha', 'chelsty'].map((s) => read(s)));
    const report = await compressOldDays(root, { olderThanDays: 7, now: NOW });
    expect(report.compressed.sort()).toEqual(['2026-03-01/piha.jsonl', '2026-03-02/piha.jsonl', '2026-03-03/piha.jsonl']);
    expect(report.failed).toEqual([]);
    expect(await files()).toEqual([
      '2026-03-01/chelsty.jsonl',
      '2026-03-01/piha.jsonl.gz',
      '2026-03-02/chelsty.jsonl',
      '2026-03-02/piha.jsonl.gz',
      '2026-03-03/piha.jsonl.gz',
      '2026-03-04/piha.jsonl',
      '2026-03-05/piha.jsonl',
    ]);
    expect(gunzipSync(await fs.readFile(path.join(root, 'events/2026-03-01/piha.jsonl.gz'))).toString()).toContain('"seq":1');
    expect(await Promise.all(['piha', 'chelsty'].map((s) => read(s).then((r) => r.seqs)))).toEqual(before.map((b) => b.seqs));
    // Idempotent: nothing left to do.
    expect((await compressOldDays(root, { olderThanDays: 7, now: NOW })).compressed).toEqual([]);
  });

  it('keeps positions valid: a reader resumes at the same uncompressed offset inside the gzipped file', async () => {
    const log = new FsEventLog({ root });
    await log.open();
    await log.append('piha', [heartbeat('piha', 1), heartbeat('piha', 2), heartbeat('piha', 3)], day(1));
    await log.append('piha', [heartbeat('piha', 4)], day(2));
    await log.append('piha', [heartbeat('piha', 5)], day(3));
    await log.close();
    let pos: LogPosition | null = null;
    for await (const r of new FsEventLogReader({ root }).read('piha', null)) {
      if (r.record.event.seq === 2) pos = r.next;
    }
    expect(pos!.file).toBe('2026-03-01/piha.jsonl');
    await compressOldDays(root, { olderThanDays: 7, now: NOW });
    expect((await files())[0]).toBe('2026-03-01/piha.jsonl.gz');
    expect((await read('piha', pos)).seqs).toEqual([3, 4, 5]);
  });

  it('removes temp files a crashed run left, and redoes a day whose plain file was not removed yet', async () => {
    await writeLog();
    const dir = path.join(root, 'events/2026-03-01');
    await fs.writeFile(path.join(dir, 'piha.jsonl.gz.tmp-999'), 'half');
    await fs.writeFile(path.join(dir, 'piha.jsonl.gz'), 'stale copy'); // crash between rename and unlink of an older attempt
    await compressOldDays(root, { olderThanDays: 7, now: NOW });
    expect((await fs.readdir(dir)).sort()).toEqual(['chelsty.jsonl', 'piha.jsonl.gz']);
    expect((await read('piha')).seqs).toEqual([1, 2, 3, 4, 5]);
  });

  it('refuses an age below one day or an invalid time with a clear error', async () => {
    await expect(compressOldDays(root, { olderThanDays: 0, now: NOW })).rejects.toThrow(/olderThanDays must be a whole number of days ≥ 1/);
    await expect(compressOldDays(root, { olderThanDays: 7, now: new Date('nope') })).rejects.toThrow(/valid Date/);
  });

  it('counts uncompressed bytes of gzipped days in the inventory', async () => {
    await writeLog();
    const plain = await logInventory(root);
    await compressOldDays(root, { olderThanDays: 7, now: NOW });
    expect(await logInventory(root)).toEqual(plain);
    expect(plain).toMatchObject({ streams: 2, files: 7 });
  });
});

describe('RetentionLoop', () => {
  it('runs on the injected clock after the first delay, then every interval, and stops', async () => {
    await writeLog();
    const clock = new ManualClock('2026-03-03T12:00:00.000Z');
    const cap = captureLog();
    const loop = new RetentionLoop({ root, clock, log: cap.logger, olderThanDays: 1 });
    expect((await loop.runOnce()).compressed).toEqual(['2026-03-01/piha.jsonl']);

    loop.start(3_600_000, 1000);
    clock.advance(999);
    expect(await files()).toContain('2026-03-02/piha.jsonl');
    // Each scheduled run is queued before runOnce, so awaiting runOnce waits for it to end.
    for (let h = 0; h <= 12; h++) {
      clock.advance(h === 0 ? 1 : 3_600_000);
      await loop.runOnce();
    }
    expect(await files()).toContain('2026-03-02/piha.jsonl.gz');
    expect(cap.entries.some((e) => e.msg === 'event log retention pass')).toBe(true);

    await loop.stop();
    clock.advance(5 * 86_400_000); // would compress 03-03 if a timer were still armed
    await loop.stop();
    expect(await files()).toContain('2026-03-03/piha.jsonl');
  });
});
