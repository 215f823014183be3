import type { StoredEvent } from '@homelab/contracts';
import type { RecordBatch } from './port';

/**
 * At most this many bytes of lines are held (their records take about twice
 * that); beyond it the oldest appends are forgotten and readers read them
 * from the file. A busy hub's observer may run only every second or so.
 */
export const RECENT_APPENDS_MAX_BYTES = 16 * 2 ** 20;

interface Segment extends RecordBatch {
  /** Offset of the first record's line in the file. */
  start: number;
}

/**
 * The records of the latest durable appends, per file, with the offsets their
 * lines end at — exactly what reading those bytes back would give. A reader
 * in the same process (the observer, right after ingest wrote) takes them
 * instead of re-reading and re-decoding the lines it was just told about.
 * The file stays the source of truth: a segment is added only once its bytes
 * are durable, is served only to a read starting exactly where it starts,
 * and anything not held here (forgotten, or never added) is read from the
 * file as before (docs/benchmarks.md, "Durable ingest").
 */
export class RecentAppends {
  private readonly byFile = new Map<string, Segment[]>();
  private held = 0;

  /** Records durably appended to `rel` as `bytes` (their lines, nothing else), starting at `start`. */
  add(rel: string, start: number, bytes: Buffer, records: StoredEvent[]): void {
    if (records.length === 0) return;
    const ends: number[] = [];
    for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) ends.push(start + i + 1);
    // Lines are JSON (no raw newline inside), so one end per record; anything else is not served.
    if (ends.length !== records.length || ends[ends.length - 1] !== start + bytes.length) return;
    let list = this.byFile.get(rel);
    if (!list) this.byFile.set(rel, (list = []));
    list.push({ file: rel, start, records, ends });
    this.held += bytes.length;
    while (this.held > RECENT_APPENDS_MAX_BYTES) this.forgetOldest();
  }

  /**
   * The records of `rel` whose lines start at `offset`, or undefined. Taking a
   * segment also forgets every earlier one of that file: readers go forward.
   */
  take(rel: string, offset: number): RecordBatch | undefined {
    const list = this.byFile.get(rel);
    if (!list) return undefined;
    const i = list.findIndex((s) => s.start === offset);
    if (i < 0) return undefined;
    const gone = list.splice(0, i + 1);
    for (const s of gone) this.held -= segmentBytes(s);
    if (list.length === 0) this.byFile.delete(rel);
    const seg = gone[i]!;
    return { file: seg.file, records: seg.records, ends: seg.ends };
  }

  /** Bytes of lines held. */
  get size(): number {
    return this.held;
  }

  private forgetOldest(): void {
    // Files are appended in parallel; the first file's first segment is old enough.
    const [rel, list] = this.byFile.entries().next().value as [string, Segment[]];
    const seg = list.shift()!;
    this.held -= segmentBytes(seg);
    if (list.length === 0) this.byFile.delete(rel);
  }
}

const segmentBytes = (s: Segment): number => s.ends[s.ends.length - 1]! - s.start;
