import fs from 'node:fs/promises';
import type { Logger } from '@homelab/logging';
import { gzChunks, isLineStart, plainChunks, READ_CHUNK_BYTES } from './chunks';
import type { CommittedSizes } from './fs-event-log';
import { absFile, assertValidStream, parseRelFile, type LogFileRef } from './layout';
import { LineSplitter } from './line-splitter';
import type { EventLogReader, LogPosition, LogRecord, RecordBatch } from './port';
import { scanLog, type LogIndex } from './scan';

export interface FsEventLogReaderOptions {
  root: string;
  log?: Logger;
  /**
   * The FsEventLog writing this root in the same process, if any: the reader
   * then stops at each file's durable size and never sees bytes a failed
   * write may still take back. Without it, files are read to their end.
   */
  committed?: CommittedSizes;
  chunkBytes?: number;
}

/** Corrupt lines beyond this per read call are counted but not logged one by one. */
const MAX_LOGGED_PER_READ = 20;

/**
 * Streams records of one stream, file by file in date order, line by line.
 * Only complete lines are consumed: a last line without `\n` is still being
 * written (or is a torn tail awaiting repair) and is read next time. A line
 * that is not a valid StoredEvent is skipped, logged with file and offset,
 * and counted once per reader.
 */
export class FsEventLogReader implements EventLogReader {
  private readonly root: string;
  private readonly log: Logger | undefined;
  private readonly committed: CommittedSizes | undefined;
  private readonly chunkBytes: number;
  private index: LogIndex | null = null;
  /** Per file, the offset of the furthest corrupt line counted (memory: one number per file). */
  private readonly corruptSeenUpTo = new Map<string, number>();
  private corruptCount = 0;

  constructor(opts: FsEventLogReaderOptions) {
    this.root = opts.root;
    this.log = opts.log;
    this.committed = opts.committed;
    this.chunkBytes = opts.chunkBytes ?? READ_CHUNK_BYTES;
  }

  /** Corrupt lines met so far (each position counted once). */
  get corruptLines(): number {
    return this.corruptCount;
  }

  /**
   * Rescans the log. `read` uses the file list of the latest scan: a file
   * created after it is read on the next call (a stream never writes an older
   * day again, so nothing can be passed over).
   */
  async streams(): Promise<string[]> {
    this.index = await scanLog(this.root);
    return [...this.index.keys()].sort();
  }

  read(stream: string, from: LogPosition | null): AsyncIterable<LogRecord> {
    return { [Symbol.asyncIterator]: () => new BatchIterator(this.readBatches(stream, from)) };
  }

  /** The records of `read`, a batch at a time (catch-up and replay use this). */
  async *readBatches(stream: string, from: LogPosition | null): AsyncGenerator<RecordBatch> {
    assertValidStream(stream);
    const fromRef = from ? parseRelFile(from.file) : null;
    if (from && (!fromRef || fromRef.stream !== stream || !Number.isSafeInteger(from.offset) || from.offset < 0)) {
      throw new Error(`invalid position for stream ${stream}: ${JSON.stringify(from)}`);
    }
    if (!this.index) await this.streams();
    yield* this.readFrom(stream, fromRef?.date ?? null, from?.offset ?? 0, true);
  }

  private async *readFrom(stream: string, fromDate: string | null, offset: number, mayRescan: boolean): AsyncGenerator<RecordBatch> {
    for (const ref of this.index!.get(stream) ?? []) {
      if (fromDate !== null && ref.date < fromDate) continue;
      const start = ref.date === fromDate ? offset : 0;
      try {
        yield* this.readFile(ref, start);
      } catch (err) {
        // Retention replaced the file (e.g. with its .gz) since the scan. Files
        // are opened before their first record is yielded, so resuming at the
        // same day and offset after a rescan repeats nothing.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !mayRescan) throw err;
        await this.streams();
        yield* this.readFrom(stream, ref.date, start, false);
        return;
      }
    }
  }

  private async *readFile(ref: LogFileRef, requested: number): AsyncGenerator<RecordBatch> {
    const abs = absFile(this.root, ref.rel);
    let start = requested;
    let chunks: AsyncGenerator<Buffer>;
    if (ref.kind === 'gz') {
      chunks = gzChunks(abs, start);
    } else {
      const size = (await fs.stat(abs)).size;
      const limit = Math.min(size, this.committed?.committedSize(ref.rel) ?? size);
      if (start === limit) return; // the usual case for a caught-up reader
      // What this process just appended, as written, instead of reading and decoding it back (recent-appends.ts).
      for (let recent = this.recentAt(ref.rel, start, limit); recent; recent = this.recentAt(ref.rel, start, limit)) {
        yield recent;
        start = recent.ends[recent.ends.length - 1]!;
        if (start === limit) return;
      }
      if (start > size || !(await isLineStart(abs, start))) {
        // The file was cut back (tail repair) or the position is not a line
        // start: read it again from the start; consumers skip by seq what they have.
        this.log?.warn({ file: `events/${ref.rel}`, offset: start, size }, 'read position is not a line start in this file; rereading it from the beginning');
        start = 0;
      }
      if (start >= limit) return;
      chunks = plainChunks(abs, start, limit, this.chunkBytes);
    }
    let logged = 0;
    const splitter = new LineSplitter(ref.rel, start, (offset, error) => {
      if (this.corrupt(ref, offset, error, logged)) logged++;
    });
    for await (const chunk of chunks) {
      splitter.push(chunk);
      for (let batch = splitter.take(); batch.records.length > 0; batch = splitter.take()) yield batch;
    }
    if (logged >= MAX_LOGGED_PER_READ) {
      this.log?.warn({ file: `events/${ref.rel}`, corruptLinesTotal: this.corruptLines }, 'more corrupt lines were skipped than logged');
    }
  }

  /** Records the writer still holds for `rel` from `start`, when they end within `limit` (they always do: held once durable). */
  private recentAt(rel: string, start: number, limit: number): RecordBatch | undefined {
    const recent = this.committed?.takeRecent?.(rel, start);
    return recent && recent.ends[recent.ends.length - 1]! <= limit ? recent : undefined;
  }

  /**
   * Counts a corrupt line once: a caught-up reader rereads the bad lines after
   * its last good record on every call, and must not count or log them again.
   * Returns whether it was logged.
   */
  private corrupt(ref: LogFileRef, offset: number, error: string, logged: number): boolean {
    const seen = this.corruptSeenUpTo.get(ref.rel);
    if (seen !== undefined && offset <= seen) return false;
    this.corruptSeenUpTo.set(ref.rel, offset);
    this.corruptCount++;
    if (logged >= MAX_LOGGED_PER_READ) return false;
    this.log?.warn({ file: `events/${ref.rel}`, offset, error: error.slice(0, 500) }, 'skipped corrupt event log line');
    return true;
  }
}

/**
 * Hands out the records of each batch one by one. An async generator that
 * yields per record costs a generator resumption and two promise hops per
 * record, about as much as decoding the line; here only the `for await`
 * itself pays per record, and the async work happens once per batch.
 */
class BatchIterator implements AsyncIterator<LogRecord> {
  private batch: RecordBatch = { file: '', records: [], ends: [] };
  private i = 0;

  constructor(private readonly source: AsyncGenerator<RecordBatch>) {}

  next(): Promise<IteratorResult<LogRecord>> {
    const { file, records, ends } = this.batch;
    const i = this.i;
    if (i < records.length) {
      this.i++;
      return Promise.resolve({ value: { record: records[i]!, next: { file, offset: ends[i]! } }, done: false });
    }
    return this.source.next().then((r): Promise<IteratorResult<LogRecord>> | IteratorResult<LogRecord> => {
      if (r.done) return { value: undefined, done: true };
      this.batch = r.value;
      this.i = 0;
      return this.next();
    });
  }

  /** A consumer that stops early (break, throw) closes the file being read. */
  async return(): Promise<IteratorResult<LogRecord>> {
    this.batch = { file: '', records: [], ends: [] };
    await this.source.return(undefined);
    return { value: undefined, done: true };
  }
}
