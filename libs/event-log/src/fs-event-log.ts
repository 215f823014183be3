import path from 'node:path';
import { z } from 'zod';
import { StoredEvent, systemClock, type Clock, type HomelabEvent } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { AppendFile, EventLogWriteError } from './append-file';
import { mkdirDurable } from './durable';
import { absFile, assertValidStream, eventsDir, parseRelFile, relFile, utcDate } from './layout';
import { isoTime } from './canonical-event';
import { encodeEventLine, isCanonicalStoredEvent } from './line-codec';
import type { AppendItem, AppendOutcome, EventLog, RecordBatch } from './port';
import { quarantineCorruptLines } from './quarantine';
import { RecentAppends } from './recent-appends';
import { recoverLog } from './recover';

export interface FsEventLogOptions {
  /** Data root; files go to `<root>/events/YYYY-MM-DD/<stream>.jsonl`. */
  root: string;
  log?: Logger;
  /** Dates quarantine entries; defaults to the system clock. */
  clock?: Clock;
}

/** What a same-process reader needs to never read bytes that are not durable yet. */
export interface CommittedSizes {
  /** Durable size of a file being written (relative to `events/`), or undefined when this log is not writing it. */
  committedSize(rel: string): number | undefined;
  /** The records this log durably appended to `rel` starting at `offset`, if it still holds them (recent-appends.ts); each is handed out once. */
  takeRecent?(rel: string, offset: number): RecordBatch | undefined;
}

interface Pending {
  stream: string;
  rel: string | null;
  bytes: string;
  written: StoredEvent[];
  duplicates: HomelabEvent[];
  resolve: (o: AppendOutcome) => void;
  reject: (e: Error) => void;
}

/**
 * Append-only JSONL event log with group commit: concurrent appends queue,
 * and one flusher writes each file's pending lines with one write and one
 * fdatasync per batch. Dedup is per stream by high-water seq.
 */
export class FsEventLog implements EventLog, CommittedSizes {
  private readonly root: string;
  private readonly log: Logger | undefined;
  private readonly clock: Clock;
  private state: 'new' | 'open' | 'closing' | 'closed' = 'new';
  /** Highest seq durably written, per stream. */
  private readonly durable = new Map<string, number>();
  /** Highest seq accepted into the queue (≥ durable); dedup is against this. */
  private readonly accepted = new Map<string, number>();
  private readonly newestDate = new Map<string, string>();
  /** Date directories known to exist durably (or being created). */
  private readonly dates = new Map<string, Promise<void>>();
  private readonly files = new Map<string, AppendFile>();
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private readonly recent = new RecentAppends();

  constructor(opts: FsEventLogOptions) {
    this.root = opts.root;
    this.log = opts.log;
    this.clock = opts.clock ?? systemClock;
  }

  async open(): Promise<void> {
    if (this.state !== 'new') throw new Error(`event log at ${this.root} cannot be opened: it is ${this.state}`);
    await mkdirDurable(eventsDir(this.root));
    const rec = await recoverLog(this.root, this.log);
    for (const [s, seq] of rec.highest) {
      this.durable.set(s, seq);
      this.accepted.set(s, seq);
    }
    for (const [s, d] of rec.newestDate) this.newestDate.set(s, d);
    for (const d of rec.dates) this.dates.set(d, Promise.resolve());
    // After the tail repair, so a torn tail is cut rather than quarantined. Never fatal.
    await quarantineCorruptLines(this.root, { log: this.log, now: () => this.clock.now() });
    this.state = 'open';
  }

  highestSeq(stream: string): number | null {
    return this.durable.get(stream) ?? null;
  }

  committedSize(rel: string): number | undefined {
    return this.files.get(rel)?.committed;
  }

  takeRecent(rel: string, offset: number): RecordBatch | undefined {
    return this.recent.take(rel, offset);
  }

  async append(stream: string, events: readonly AppendItem[], rx: Date): Promise<AppendOutcome> {
    if (this.state !== 'open')
      throw new Error(`event log at ${this.root} is ${this.state === 'new' ? 'not open yet (call open())' : this.state}; append refused`);
    assertValidStream(stream);
    if (!(rx instanceof Date) || Number.isNaN(rx.getTime())) throw new Error('append: rx must be a valid Date');
    const rxIso = rx.toISOString();
    // Validate everything before accepting anything: a record the log could
    // not read back would be lost silently, so the whole call is refused instead.
    const records: { record: StoredEvent; line: AppendItem }[] = [];
    const rxOk = isoTime(rxIso);
    for (let i = 0; i < events.length; i++) {
      const item = events[i]!;
      const withText = 'text' in item;
      const record = { event: withText ? item.event : item, rx: rxIso };
      // Exact fast check (see canonical-event.ts): what it accepts, zod would return unchanged. An
      // event ingest decoded from an agent's payload (decodeEventPayload, with its text) passed it when decoded.
      if ((rxOk && withText) || isCanonicalStoredEvent(record)) {
        records.push({ record, line: item });
        continue;
      }
      const res = StoredEvent.safeParse(record);
      if (!res.success) throw new Error(`append to stream ${stream}: event ${i} is invalid: ${z.prettifyError(res.error)}`);
      records.push({ record: res.data, line: res.data.event });
    }
    // Agents send in seq order; sorting makes an out-of-order batch safe rather than half "duplicate".
    records.sort((a, b) => a.record.event.seq - b.record.event.seq);

    let high = this.accepted.get(stream) ?? -1;
    const written: StoredEvent[] = [];
    let bytes = '';
    const duplicates: HomelabEvent[] = [];
    for (const { record, line } of records) {
      if (record.event.seq <= high) duplicates.push(record.event);
      else {
        written.push(record);
        bytes += encodeEventLine(line, rxIso);
        high = record.event.seq;
      }
    }
    const inFlight = this.accepted.get(stream) !== this.durable.get(stream);
    if (written.length === 0 && !inFlight) {
      return { written, duplicates, highestSeq: this.highestSeq(stream) };
    }
    let rel: string | null = null;
    if (written.length > 0) {
      this.accepted.set(stream, high);
      rel = relFile(this.dateFor(stream, rx), stream);
    }
    return new Promise<AppendOutcome>((resolve, reject) => {
      this.queue.push({ stream, rel, bytes, written, duplicates, resolve, reject });
      this.scheduleFlush();
    });
  }

  /**
   * The rx date, but never earlier than the stream's newest file: if the hub
   * clock jumps back, writing into an older day would put records behind a
   * reader's position, where they would never be read.
   */
  private dateFor(stream: string, rx: Date): string {
    const newest = this.newestDate.get(stream);
    const d = utcDate(rx);
    const date = newest !== undefined && newest > d ? newest : d;
    this.newestDate.set(stream, date);
    return date;
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = (async () => {
      // Let appends arriving in the same turn of the event loop join this batch.
      await new Promise<void>((r) => setImmediate(r));
      while (this.queue.length > 0) await this.flushBatch(this.queue.splice(0));
    })().finally(() => {
      this.flushing = null;
      if (this.queue.length > 0) this.scheduleFlush();
    });
  }

  private async flushBatch(batch: Pending[]): Promise<void> {
    const byStream = new Map<string, Pending[]>();
    for (const p of batch) {
      const list = byStream.get(p.stream);
      if (list) list.push(p);
      else byStream.set(p.stream, [p]);
    }
    await Promise.all([...byStream].map(([stream, entries]) => this.flushStream(stream, entries)));
  }

  /** Files of one stream are written in date order; after a failure nothing later of that stream is written. */
  private async flushStream(stream: string, entries: Pending[]): Promise<void> {
    const byFile = new Map<string, Pending[]>();
    for (const p of entries) {
      if (p.rel === null) continue;
      const list = byFile.get(p.rel);
      if (list) list.push(p);
      else byFile.set(p.rel, [p]);
    }
    try {
      for (const [rel, group] of byFile) {
        const file = await this.fileFor(stream, rel);
        const start = file.committed;
        const bytes = Buffer.from(group.map((p) => p.bytes).join(''), 'utf8');
        await file.append(bytes);
        this.recent.add(rel, start, bytes, group.length === 1 ? group[0]!.written : group.flatMap((p) => p.written));
        const last = group[group.length - 1]!.written;
        this.durable.set(stream, last[last.length - 1]!.event.seq);
      }
    } catch (err) {
      this.failStream(stream, entries, err);
      return;
    }
    const highestSeq = this.highestSeq(stream);
    for (const p of entries) p.resolve({ written: p.written, duplicates: p.duplicates, highestSeq });
  }

  /**
   * Rejects this batch's appends of the stream and every later one already
   * queued: they were deduped against lines that are now not written, so
   * writing them would leave a gap the agent's resend could not fill.
   */
  private failStream(stream: string, entries: Pending[], cause: unknown): void {
    const error =
      cause instanceof EventLogWriteError
        ? cause
        : new EventLogWriteError(`could not write stream ${stream}: ${(cause as Error).message}`, (cause as NodeJS.ErrnoException).code, { cause });
    this.log?.error({ err: error, stream }, 'event log write failed; appends rejected, nothing partial kept');
    const dropped = this.queue.filter((p) => p.stream === stream);
    this.queue = this.queue.filter((p) => p.stream !== stream);
    const durable = this.durable.get(stream);
    if (durable === undefined) this.accepted.delete(stream);
    else this.accepted.set(stream, durable);
    for (const p of [...entries, ...dropped]) p.reject(error);
  }

  private async fileFor(stream: string, rel: string): Promise<AppendFile> {
    const open = this.files.get(rel);
    if (open) return open;
    const date = parseRelFile(rel)!.date;
    // The stream has moved on to a newer day; its older file is never written again.
    for (const [r, f] of this.files) {
      const ref = parseRelFile(r)!;
      if (ref.stream === stream && ref.date < date) {
        this.files.delete(r);
        await f.close();
      }
    }
    await this.ensureDateDir(date);
    const file = await AppendFile.open(absFile(this.root, rel), rel);
    this.files.set(rel, file);
    return file;
  }

  /** Streams flush in parallel: they share one creation (and parent fsync) of a new day's directory. */
  private ensureDateDir(date: string): Promise<void> {
    let p = this.dates.get(date);
    if (!p) {
      p = mkdirDurable(path.join(eventsDir(this.root), date)).then(() => undefined);
      p.catch(() => this.dates.delete(date));
      this.dates.set(date, p);
    }
    return p;
  }

  /** Waits for queued appends, then closes every file. Later appends are refused. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closing';
    while (this.flushing) await this.flushing;
    for (const f of this.files.values()) await f.close();
    this.files.clear();
    this.state = 'closed';
  }
}
