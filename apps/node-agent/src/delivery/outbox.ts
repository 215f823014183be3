import type fs from 'node:fs/promises';
import type { Logger } from '@homelab/logging';
import { AgentError, errorMessage } from '../errors';
import { EntryList, mergeDrops, summarizeDrops, takeChunk, type DropReport, type OutboxEntry, type ReadonlyEntries } from './outbox-entries';
import { AckFloor, SegmentFiles, type Segment } from './outbox-files';

export type { OutboxEntry } from './outbox-entries';

export interface OutboxStats {
  /** Unacknowledged events (durable or waiting for their write) and their bytes. */
  entries: number;
  bytes: number;
  /** Bytes of the segment files, what the cap bounds (acked lines of undeleted segments included). */
  fileBytes: number;
  segments: number;
  /** Events dropped (oldest first) for the cap; events whose write failed (sent from memory); group commits. */
  dropped: number;
  writeFailures: number;
  syncs: number;
}

export interface OutboxOptions {
  /** Folder of the segment files. */
  dir: string;
  maxBytes: number;
  log: Logger;
  /** A segment is closed once it holds this many bytes. Default maxBytes/16, within 16 KiB … 4 MiB. */
  segmentBytes?: number;
  /** An `outbox.jsonl` of the single-file layout, adopted at open. */
  legacyFile?: string;
}

interface Queued extends OutboxEntry {
  done: () => void;
}

/**
 * Events not yet acknowledged by the hub, in segment files of one event per
 * line. append() resolves once the event is durable: everything appended
 * while a write is in progress goes into the next write and its one
 * fdatasync (group commit), so a burst costs a few syncs, not one per event.
 * Acks forget a prefix; a segment is deleted once every event in it is acked
 * or dropped, so compaction is an unlink, never a rewrite. The cap bounds
 * the files: the oldest segment goes first, and what it held is reported
 * once per batch (takeDrops) for an `events_dropped` event.
 */
export class Outbox {
  private readonly files: SegmentFiles;
  private readonly entries = new EntryList();
  /** Durable unacknowledged entries, oldest first: what the publisher may send. */
  readonly unacked: ReadonlyEntries = this.entries;
  private queue: Queued[] = [];
  private queuedBytes = 0;
  /** In seq order; the last one may be the active segment. */
  private segments: Segment[] = [];
  private active: { seg: Segment; fh: fs.FileHandle } | null = null;
  private nextId = 1;
  /** Every seq ≤ this is acked or dropped. */
  private goneUpTo = 0;
  private readonly floor: AckFloor;
  private flushing: Promise<void> = Promise.resolve();
  private flushActive = false;
  private isOpen = false;
  private drops: DropReport | null = null;
  private dropListener: () => void = () => undefined;
  private readonly counts = { dropped: 0, writeFailures: 0, syncs: 0 };
  private readonly segmentBytes: number;

  constructor(private readonly opts: OutboxOptions) {
    this.files = new SegmentFiles(opts.dir);
    this.floor = new AckFloor(this.files, (err) => opts.log.debug({ err: errorMessage(err) }, 'outbox: could not save the ack floor'));
    this.segmentBytes = opts.segmentBytes ?? Math.min(4 << 20, Math.max(16 << 10, Math.floor(opts.maxBytes / 16)));
  }

  async open(): Promise<void> {
    const loaded = await this.files.load(this.opts.legacyFile);
    for (const e of loaded.entries) this.entries.push(e);
    if (loaded.bad) this.opts.log.warn({ dir: this.opts.dir, lines: loaded.bad }, 'outbox: skipped torn or invalid lines');
    this.segments = loaded.segments;
    this.nextId = loaded.nextId;
    this.goneUpTo = loaded.floor;
    this.floor.reset(loaded.floor);
    await this.pruneGone();
    this.isOpen = true;
    await this.makeRoom(0);
    // Keep appending to the newest segment while it has room, from after its last whole line.
    const newest = loaded.newest;
    if (newest && newest.seg === this.segments.at(-1) && newest.cleanSize < this.segmentBytes) {
      if (newest.cleanSize !== newest.seg.size) await this.files.truncate(newest.seg.id, newest.cleanSize);
      newest.seg.size = newest.cleanSize;
      this.active = { seg: newest.seg, fh: await this.files.openAppend(newest.seg.id, false) };
    }
  }

  /** Waits for queued writes, saves the ack floor, closes the file. */
  async close(): Promise<void> {
    await this.flushing;
    this.isOpen = false;
    await this.floor.save();
    await this.closeActive();
  }

  /** Makes one event durable; resolves when it is (or when it had to be kept in memory or dropped). Seqs must ascend. */
  append(seq: number, line: string): Promise<void> {
    if (!this.isOpen) return Promise.reject(new AgentError('io_failed', 'outbox is not open'));
    return new Promise<void>((done) => {
      const bytes = Buffer.byteLength(line) + 1;
      this.queue.push({ seq, line, bytes, done });
      this.queuedBytes += bytes;
      if (!this.flushActive) {
        this.flushActive = true; // set before the call, which runs synchronously up to its first await
        this.flushing = this.flushLoop();
      }
    });
  }

  /** The hub has every seq ≤ upToSeq on disk: forget them. Returns how many entries left. */
  async ack(upToSeq: number): Promise<number> {
    const removed = this.entries.removeThrough(upToSeq);
    const last = removed.at(-1);
    if (!last) return 0;
    // Only what we held counts: an ack above our highest seq (a lost seq lease) must not cover events still being written.
    this.floor.advance(last.seq);
    this.goneUpTo = Math.max(this.goneUpTo, last.seq);
    await this.pruneGone();
    return removed.length;
  }

  /** Called after a run of writes in which the cap dropped events (and by the publisher at start, for drops at open). */
  onDrops(listener: () => void): void {
    this.dropListener = listener;
  }

  /** What the cap dropped since the last call (coalesced), or null. */
  takeDrops(): DropReport | null {
    const d = this.drops;
    this.drops = null;
    return d;
  }

  /** Highest seq the hub acked (as far as this outbox knows: acked.json at open, then acks of held events; 0 when never). */
  ackedUpTo(): number {
    return this.floor.upTo;
  }

  /** Highest seq stored or waiting to be (0 when empty). */
  maxSeq(): number {
    return this.queue.at(-1)?.seq ?? this.entries.last()?.seq ?? 0;
  }

  /** What the birth announces: events waiting and the highest seq among them, or null when none wait. */
  backlog(): { events: number; untilSeq: number } | null {
    const events = this.entries.length + this.queue.length;
    return events > 0 ? { events, untilSeq: this.maxSeq() } : null;
  }

  stats(): OutboxStats {
    const { entries, queue, segments } = this;
    const fileBytes = segments.reduce((n, s) => n + s.size, 0);
    return { entries: entries.length + queue.length, bytes: entries.bytes + this.queuedBytes, fileBytes, segments: segments.length, ...this.counts };
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue;
      this.queue = [];
      this.queuedBytes = 0;
      await this.writeBatch(batch);
      for (const q of batch) q.done();
    }
    this.flushActive = false;
    // Told once the writes are done, so a burst that drops many segments gets one report, not one per
    // segment (and a report's own write, which may drop another segment, cannot snowball).
    if (this.drops) this.dropListener();
  }

  /** Writes a batch in chunks that fit the active segment: one write + fdatasync per chunk. */
  private async writeBatch(batch: Queued[]): Promise<void> {
    for (let i = 0; i < batch.length;) {
      // Roll over before a write that would not fit, so each segment costs one sync, not an extra one for its last line.
      if (this.active && this.active.seg.size > 0 && this.active.seg.size + batch[i]!.bytes > this.segmentBytes) await this.closeActive();
      const { chunk, bytes } = takeChunk(batch, i, this.segmentBytes - (this.active?.seg.size ?? 0));
      i += chunk.length;
      await this.makeRoom(bytes);
      if (bytes > this.opts.maxBytes) {
        this.recordDrops(chunk); // one event larger than the whole cap
        continue;
      }
      await this.writeChunk(chunk, bytes);
    }
  }

  private async writeChunk(chunk: OutboxEntry[], bytes: number): Promise<void> {
    let target: { seg: Segment; fh: fs.FileHandle } | null = null;
    try {
      target = await this.activeSegment();
      await target.fh.appendFile(chunk.map((e) => `${e.line}\n`).join(''), 'utf8');
      await target.fh.datasync();
      this.counts.syncs += 1;
      target.seg.size += bytes;
      target.seg.maxSeq = chunk.at(-1)!.seq;
    } catch (err) {
      // Disk full or broken: the events still go out from memory, and the next write starts a fresh segment.
      this.counts.writeFailures += chunk.length;
      this.opts.log.error({ err: errorMessage(err), fromSeq: chunk[0]!.seq, toSeq: chunk.at(-1)!.seq }, 'outbox: write failed; events kept in memory only');
      if (target) await this.files.truncate(target.seg.id, target.seg.size).catch(() => undefined);
      await this.closeActive();
    }
    for (const e of chunk) this.entries.push({ seq: e.seq, line: e.line, bytes: e.bytes });
  }

  private async activeSegment(): Promise<{ seg: Segment; fh: fs.FileHandle }> {
    if (this.active) return this.active;
    const seg: Segment = { id: this.nextId++, size: 0, maxSeq: 0 };
    const fh = await this.files.openAppend(seg.id, true);
    this.segments.push(seg);
    this.active = { seg, fh };
    return this.active;
  }

  private async closeActive(): Promise<void> {
    const a = this.active;
    if (!a) return;
    this.active = null;
    await a.fh.close().catch(() => undefined);
    await this.pruneGone();
  }

  /** Drops the oldest segments until `incoming` bytes fit under the cap. */
  private async makeRoom(incoming: number): Promise<void> {
    const removed: OutboxEntry[] = [];
    const collect = (upTo: number) => {
      for (const e of this.entries.removeThrough(upTo)) removed.push(e);
      this.goneUpTo = Math.max(this.goneUpTo, upTo);
    };
    const fileBytes = () => this.segments.reduce((n, s) => n + s.size, 0);
    while (this.segments.length && fileBytes() + incoming > this.opts.maxBytes) {
      const oldest = this.segments[0]!;
      collect(oldest.maxSeq);
      if (this.active?.seg === oldest) await this.closeActive();
      await this.deleteSegment(oldest);
    }
    // Entries kept in memory after failed writes count against the cap as well.
    while (this.entries.length && this.entries.bytes + incoming > this.opts.maxBytes) collect(this.entries.at(0)!.seq);
    this.recordDrops(removed);
  }

  private recordDrops(removed: readonly OutboxEntry[]): void {
    const report = summarizeDrops(removed);
    if (!report) return;
    this.counts.dropped += removed.length;
    this.drops = mergeDrops(this.drops, report);
    this.opts.log.warn({ dropped: removed.length, fromSeq: report.fromSeq, toSeq: report.toSeq }, 'outbox full: dropped the oldest events');
  }

  /** Deletes every closed segment whose events are all acked or dropped. */
  private async pruneGone(): Promise<void> {
    for (const seg of this.segments.filter((s) => s.maxSeq <= this.goneUpTo && s !== this.active?.seg)) await this.deleteSegment(seg);
  }

  private async deleteSegment(seg: Segment): Promise<void> {
    const i = this.segments.indexOf(seg);
    if (i < 0) return; // an ack and the cap may race for the same segment
    this.segments.splice(i, 1);
    await this.files
      .remove(seg.id)
      .catch((err: unknown) => this.opts.log.warn({ err: errorMessage(err), segment: seg.id }, 'outbox: could not delete a segment'));
  }
}
