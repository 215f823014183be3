import type { z } from 'zod';
import { EventsDroppedEvent } from '@homelab/contracts';

export interface OutboxEntry {
  seq: number;
  /** The event as one JSON line (no newline). */
  line: string;
  /** Bytes on disk, newline included. */
  bytes: number;
}

export interface ReadonlyEntries {
  readonly length: number;
  at(i: number): OutboxEntry | undefined;
  last(): OutboxEntry | undefined;
  /** Index of the first entry with seq > `seq`. */
  indexAfter(seq: number): number;
  toArray(): OutboxEntry[];
}

/**
 * Unacknowledged entries in seq order. Acks and cap drops always remove a
 * prefix, so removal advances a head index instead of shifting the array
 * (a 20,000-event backlog acked one event at a time must not cost O(n²)).
 */
export class EntryList implements ReadonlyEntries {
  private items: OutboxEntry[] = [];
  private head = 0;
  private total = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  /** Bytes of all entries, newlines included. */
  get bytes(): number {
    return this.total;
  }

  at(i: number): OutboxEntry | undefined {
    return i < 0 ? undefined : this.items[this.head + i];
  }

  last(): OutboxEntry | undefined {
    return this.length > 0 ? this.items[this.items.length - 1] : undefined;
  }

  /** Seqs must ascend. */
  push(e: OutboxEntry): void {
    this.items.push(e);
    this.total += e.bytes;
  }

  /** Index (from the oldest) of the first entry with seq > `seq`. */
  indexAfter(seq: number): number {
    let lo = this.head;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.items[mid]!.seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo - this.head;
  }

  /** Removes every entry with seq ≤ upTo and returns them. */
  removeThrough(upTo: number): OutboxEntry[] {
    const n = this.indexAfter(upTo);
    const removed = this.items.slice(this.head, this.head + n);
    for (const e of removed) this.total -= e.bytes;
    this.head += n;
    // Give the memory back once the dead prefix dominates (amortized O(1) per entry).
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return removed;
  }

  toArray(): OutboxEntry[] {
    return this.items.slice(this.head);
  }
}

/** The entries from `start` that fit in `room` bytes (at least one), for one write. */
export function takeChunk<T extends OutboxEntry>(batch: readonly T[], start: number, room: number): { chunk: T[]; bytes: number } {
  let end = start;
  let bytes = 0;
  while (end < batch.length && (end === start || bytes + batch[end]!.bytes <= room)) bytes += batch[end++]!.bytes;
  return { chunk: batch.slice(start, end), bytes };
}

/** What the cap threw away since the last `events_dropped` event was stamped. */
export interface DropReport {
  /** Events lost, including those an earlier, itself dropped, `events_dropped` reported. */
  count: number;
  fromSeq: number;
  toSeq: number;
}

/**
 * Summarizes one batch of dropped entries. An `events_dropped` event among
 * them would take its report with it, so its count and range are folded into
 * this one: the hub sums the counts of the reports it receives, and every lost
 * event stays counted exactly once even when a long outage drops the reports.
 */
export function summarizeDrops(removed: readonly OutboxEntry[]): DropReport | null {
  const first = removed[0];
  if (!first) return null;
  let count = 0;
  let fromSeq = first.seq;
  for (const e of removed) {
    count += 1;
    const earlier = earlierReport(e.line);
    if (earlier) {
      count += earlier.count;
      if (earlier.fromSeq !== undefined) fromSeq = Math.min(fromSeq, earlier.fromSeq);
    }
  }
  return { count, fromSeq, toSeq: removed.at(-1)!.seq };
}

export function mergeDrops(a: DropReport | null, b: DropReport): DropReport {
  if (!a) return b;
  return { count: a.count + b.count, fromSeq: Math.min(a.fromSeq, b.fromSeq), toSeq: Math.max(a.toSeq, b.toSeq) };
}

function earlierReport(line: string): z.infer<typeof EventsDroppedEvent>['data'] | null {
  // Cheap pre-filter: inside a JSON string value the quotes would be escaped, so this only matches the real field.
  if (!line.includes('"type":"events_dropped"')) return null;
  try {
    const res = EventsDroppedEvent.safeParse(JSON.parse(line));
    return res.success ? res.data.data : null;
  } catch {
    return null;
  }
}
