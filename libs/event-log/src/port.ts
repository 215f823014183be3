import type { HomelabEvent, StoredEvent } from '@homelab/contracts';

/** Where a stream has been read up to: a file relative to `events/` and a byte offset in it. */
export interface LogPosition {
  /** e.g. `2026-11-26/piha.jsonl` (or `.jsonl.gz` once compressed). */
  file: string;
  offset: number;
}

declare const exactText: unique symbol;

/**
 * An event with its text, exactly `JSON.stringify(event)`: the log writes the
 * text instead of stringifying the event again (stringifying cost about as
 * much as parsing). Only decodeEventPayload (fast-line.ts) makes one, after
 * checking the text is the event's canonical layout; callers must not change
 * the event afterwards (ingest and the log never do).
 */
export interface EventWithText {
  readonly event: HomelabEvent;
  readonly text: string;
  readonly [exactText]: true;
}

/** What `append` takes: an event, or an event with its exact text. */
export type AppendItem = HomelabEvent | EventWithText;

/** The event of an append item. */
export const eventOf = (item: AppendItem): HomelabEvent => ('text' in item ? item.event : item);

export interface AppendOutcome {
  /** Records durably written (after fdatasync), in seq order (a batch is sorted by seq before dedup). */
  written: StoredEvent[];
  /** Events dropped because their `(stream, seq)` was already written. */
  duplicates: HomelabEvent[];
  /** Highest seq durably written for the stream after this append (what the hub acks). */
  highestSeq: number | null;
}

/**
 * The append-only event log under `<root>/events/YYYY-MM-DD/<stream>.jsonl`.
 * A stream is a node name, or `_hub` for events the hub derives itself.
 */
export interface EventLog {
  /** Creates folders, repairs torn tails, quarantines corrupt lines (events/quarantine/), learns the highest seq of every stream. */
  open(): Promise<void>;
  /**
   * Appends events of one stream; dedups by seq (a seq at or below the stream's
   * highest written seq is a duplicate); resolves only after the data is on disk
   * (group commit: concurrent appends share one fdatasync).
   */
  append(stream: string, events: readonly AppendItem[], rx: Date): Promise<AppendOutcome>;
  highestSeq(stream: string): number | null;
  close(): Promise<void>;
}

export interface LogRecord {
  record: StoredEvent;
  /** Position just after this record's line. */
  next: LogPosition;
}

/** Consecutive records of one file: record i ends at `ends[i]` (the offset just after its line). */
export interface RecordBatch {
  file: string;
  records: StoredEvent[];
  ends: number[];
}

/** Sequential reading for the observer and replay. */
export interface EventLogReader {
  /** Streams present in the log, sorted. */
  streams(): Promise<string[]>;
  /** Records of one stream after `from` (or from the beginning), in file then line order. */
  read(stream: string, from: LogPosition | null): AsyncIterable<LogRecord>;
  /**
   * The same records as `read`, a batch at a time (optional). Replay folds
   * millions of records; awaiting each one costs a promise per record, about
   * as much as folding it, and a position object per record adds to the GC.
   */
  readBatches?(stream: string, from: LogPosition | null): AsyncIterable<RecordBatch>;
}
