import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type { Logger } from '@homelab/logging';
import { fsyncDir } from './durable';
import { eventsDir, parseLogFileName, utcDate } from './layout';
import { listDateDirs } from './scan';

const DAY_MS = 86_400_000;
/**
 * The newest files of each stream are never compressed, whatever their age:
 * the writer may still append to the newest (a node silent for weeks writes
 * into a new day, but a hub whose clock is behind would not), and the open
 * repair inspects the two newest (tail.ts); a checkpoint also points into one
 * of them, where resuming a plain file is a seek instead of a decompression.
 */
export const KEEP_NEWEST_FILES_PER_STREAM = 2;
const TMP_SUFFIX = /\.jsonl\.gz\.tmp-\d+$/;

export interface CompressOldDaysOptions {
  /** Days compressed are those more than this many whole days before `now`'s UTC date (≥ 1, so never today). */
  olderThanDays: number;
  now: Date;
  log?: Logger | undefined;
}

export interface CompressReport {
  /** Files compressed, relative to `events/` (their plain names). */
  compressed: string[];
  bytesIn: number;
  bytesOut: number;
  /** Files left plain because compressing them failed; retried on the next run. */
  failed: { file: string; error: string }[];
}

/** The newest date compressed by a run at `now` (inclusive). */
export function compressCutoff(now: Date, olderThanDays: number): string {
  return utcDate(new Date(now.getTime() - (olderThanDays + 1) * DAY_MS));
}

/**
 * Gzips each `<date>/<stream>.jsonl` of days older than `olderThanDays` into
 * `<stream>.jsonl.gz`: temp file → fsync → verify (decompressed bytes equal the
 * original's) → rename → fsync dir → remove the original → fsync dir. A crash
 * at any step leaves the plain file, or both (readers prefer the plain one and
 * the next run redoes it). Offsets inside a file are the same uncompressed
 * offsets before and after, so checkpoints stay valid.
 */
export async function compressOldDays(root: string, opts: CompressOldDaysOptions): Promise<CompressReport> {
  const { olderThanDays, now, log } = opts;
  if (!Number.isSafeInteger(olderThanDays) || olderThanDays < 1)
    throw new Error(`compressOldDays: olderThanDays must be a whole number of days ≥ 1, got ${olderThanDays}`);
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new Error('compressOldDays: now must be a valid Date');
  const cutoff = compressCutoff(now, olderThanDays);
  const report: CompressReport = { compressed: [], bytesIn: 0, bytesOut: 0, failed: [] };

  const byDate = new Map<string, string[]>();
  const datesOf = new Map<string, string[]>();
  for (const date of await listDateDirs(root)) {
    const names = await fs.readdir(path.join(eventsDir(root), date)).catch(() => [] as string[]);
    byDate.set(date, names);
    for (const name of names) {
      const ref = parseLogFileName(date, name);
      if (!ref) continue;
      const list = datesOf.get(ref.stream) ?? [];
      if (list[list.length - 1] !== date) list.push(date); // dates come sorted
      datesOf.set(ref.stream, list);
    }
  }
  const protectedFile = (stream: string, date: string) => (datesOf.get(stream) ?? []).slice(-KEEP_NEWEST_FILES_PER_STREAM).includes(date);

  for (const [date, names] of byDate) {
    if (date > cutoff) break;
    const dir = path.join(eventsDir(root), date);
    for (const name of names) {
      if (TMP_SUFFIX.test(name)) {
        // Left by a run that crashed; runs of one process never overlap, and only the hub compresses.
        await fs.rm(path.join(dir, name), { force: true });
        continue;
      }
      const ref = parseLogFileName(date, name);
      if (!ref || ref.kind !== 'plain' || protectedFile(ref.stream, date)) continue;
      try {
        const { bytesIn, bytesOut } = await compressFile(path.join(dir, name));
        report.compressed.push(ref.rel);
        report.bytesIn += bytesIn;
        report.bytesOut += bytesOut;
        log?.info({ file: `events/${ref.rel}`, bytesIn, bytesOut }, 'compressed old event log file');
      } catch (err) {
        report.failed.push({ file: ref.rel, error: (err as Error).message });
        log?.error({ err, file: `events/${ref.rel}` }, 'could not compress old event log file; it stays plain and is retried on the next run');
      }
    }
  }
  return report;
}

/** Counts and hashes the bytes flowing through. */
function digest(): { stream: Transform; result: () => { bytes: number; sha256: string } } {
  const hash = createHash('sha256');
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  return { stream, result: () => ({ bytes, sha256: hash.digest('hex') }) };
}

const discard = () =>
  new Writable({
    write(_chunk, _enc, cb) {
      cb();
    },
  });

async function fsyncFile(file: string): Promise<void> {
  const fh = await fs.open(file, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function compressFile(abs: string): Promise<{ bytesIn: number; bytesOut: number }> {
  const before = await fs.stat(abs);
  const gz = `${abs}.gz`;
  const tmp = `${gz}.tmp-${process.pid}`;
  try {
    const original = digest();
    await pipeline(createReadStream(abs), original.stream, createGzip(), createWriteStream(tmp, { flags: 'wx', mode: before.mode & 0o777 }));
    await fsyncFile(tmp);
    const copy = digest();
    await pipeline(createReadStream(tmp), createGunzip(), copy.stream, discard());
    const [a, b] = [original.result(), copy.result()];
    if (a.bytes !== b.bytes || a.sha256 !== b.sha256)
      throw new Error(`verification failed: the compressed copy decompresses to ${b.bytes} bytes, the original has ${a.bytes}`);
    const after = await fs.stat(abs);
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) throw new Error('the file changed while it was being compressed');
    await fs.rename(tmp, gz);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  const dir = path.dirname(abs);
  await fsyncDir(dir);
  await fs.rm(abs);
  await fsyncDir(dir);
  return { bytesIn: before.size, bytesOut: (await fs.stat(gz)).size };
}
