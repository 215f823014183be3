import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import type { Logger } from '@homelab/logging';
import { absFile, eventsDir, type LogFileRef } from './layout';
import { looseSeq } from './line-codec';
import { scanLog } from './scan';
import { inspectTail } from './tail';

export interface RecoveredLog {
  /** Highest seq on disk per stream. */
  highest: Map<string, number>;
  /** Newest date directory holding a file of the stream. */
  newestDate: Map<string, string>;
  dates: Set<string>;
}

/**
 * Only the newest file of a stream is ever appended to (the writer never goes
 * back a day), except for one batch spanning midnight; so a crash can tear at
 * most the two newest files of each stream. Older files are not touched.
 */
const REPAIRABLE_FILES = 2;

async function lastSeqOfGz(file: string): Promise<number | null> {
  let carry = '';
  let last: number | null = null;
  // A decoder, so a character split across two chunks is not garbled.
  const utf8 = new StringDecoder('utf8');
  const stream = createReadStream(file).pipe(createGunzip());
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const lines = (carry + utf8.write(chunk)).split('\n');
    carry = lines.pop() ?? '';
    for (const l of lines) {
      const seq = looseSeq(l);
      if (typeof seq === 'number') last = seq;
    }
  }
  return last;
}

async function recoverStream(root: string, files: LogFileRef[], log: Logger | undefined): Promise<number | null> {
  let highest: number | null = null;
  const newestFirst = [...files].reverse();
  for (let i = 0; i < newestFirst.length; i++) {
    const ref = newestFirst[i]!;
    const abs = absFile(root, ref.rel);
    let seq: number | null;
    if (ref.kind === 'gz') {
      seq = await lastSeqOfGz(abs);
    } else {
      const info = await inspectTail(abs, i < REPAIRABLE_FILES);
      if (info.removed > 0) {
        log?.warn({ file: `events/${ref.rel}`, bytesRemoved: info.removed, size: info.size }, 'repaired torn tail of event log file');
      }
      seq = info.lastSeq;
    }
    // The newest file may be empty (created just before a crash); keep looking back, but keep repairing the first two.
    if (seq !== null && highest === null) highest = seq;
    if (highest !== null && i + 1 >= REPAIRABLE_FILES) break;
  }
  return highest;
}

/** Repairs torn tails and learns, per stream, the highest seq and newest date. */
export async function recoverLog(root: string, log: Logger | undefined, concurrency = 8): Promise<RecoveredLog> {
  const index = await scanLog(root);
  const out: RecoveredLog = { highest: new Map(), newestDate: new Map(), dates: new Set() };
  const work = [...index.entries()];
  for (const [stream, files] of work) {
    for (const f of files) out.dates.add(f.date);
    out.newestDate.set(stream, files[files.length - 1]!.date);
  }
  let next = 0;
  const worker = async () => {
    while (next < work.length) {
      const [stream, files] = work[next++]!;
      const seq = await recoverStream(root, files, log);
      if (seq !== null) out.highest.set(stream, seq);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, work.length) }, worker));
  log?.debug({ dir: eventsDir(root), streams: index.size }, 'event log recovered');
  return out;
}
