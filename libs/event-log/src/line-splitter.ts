import { isAscii } from 'node:buffer';
import { decodeCanonicalBytes } from './fast-line';
import { decodeLine } from './line-codec';
import type { RecordBatch } from './port';
import { MAX_LINE_BYTES } from './tail';

const NL = 0x0a;

/**
 * Records decoded per `take`. A 1 MiB chunk holds about 4,000 lines; decoding
 * them all at once kept every record alive until the last was folded, and
 * each young-generation GC copied that batch (GC was ~12 % of a replay).
 * Small batches die young; the async machinery still runs once per batch.
 */
export const RECORDS_PER_TAKE = 256;

/**
 * Turns the byte chunks of one file into records, synchronously (so the
 * async machinery costs per batch, not per line): `push` a chunk, then `take`
 * until it returns nothing, before pushing the next. Only complete lines
 * become records; the unfinished last line waits for the next chunk, and one
 * still unfinished at the end of the file is not consumed.
 */
export class LineSplitter {
  private carry: Buffer | null = null;
  /** The bytes being split; `s` is the next line start in it, `base` the file offset of its first byte. */
  private cur: Segment | null = null;
  /** What of the pushed chunk follows `cur` when `cur` holds only the line that straddled two chunks. */
  private rest: Segment | null = null;
  /** File offset of the next chunk's first byte. */
  private pos: number;
  private skipping = false;

  constructor(
    private readonly rel: string,
    start: number,
    private readonly onCorrupt: (offset: number, error: string) => void,
  ) {
    this.pos = start;
  }

  /** The chunk stays in use until `take` returns an empty batch (it may be a view of a buffer its source reuses). */
  push(chunk: Buffer): void {
    const at = this.pos;
    this.pos += chunk.length;
    const carry = this.carry;
    this.carry = null;
    this.rest = null;
    if (!carry) {
      this.cur = segment(chunk, at, 0);
      return;
    }
    // Only the line that straddles the two chunks is copied together, not the whole chunk
    // (a megabyte copied per chunk was ~4 % of a replay, and as much memory churn as the log's size).
    const nl = chunk.indexOf(NL);
    if (nl < 0) {
      this.cur = segment(Buffer.concat([carry, chunk]), at - carry.length, 0);
      return;
    }
    this.cur = segment(Buffer.concat([carry, chunk.subarray(0, nl + 1)]), at - carry.length, 0);
    this.rest = segment(chunk, at, nl + 1);
  }

  /** Up to `max` records of the pushed chunk; none once it is used up (its unfinished line then kept for the next). */
  take(max = RECORDS_PER_TAKE): RecordBatch {
    const out: RecordBatch = { file: this.rel, records: [], ends: [] };
    const { records, ends } = out;
    while (this.cur && records.length < max) {
      const seg = this.cur;
      const { buf, base } = seg;
      let s = seg.s;
      while (records.length < max) {
        const e = buf.indexOf(NL, s);
        if (e < 0) break;
        if (this.skipping) {
          this.skipping = false;
        } else {
          // The layout encodeLine writes is decoded without JSON.parse of the envelope; anything else gets the full decoder.
          let record = decodeCanonicalBytes(buf, s, e);
          if (record === undefined) {
            const res = decodeLine(buf.toString(seg.encoding, s, e));
            if (res.ok) record = res.record;
            else this.onCorrupt(base + s, res.error);
          }
          if (record !== undefined) {
            records.push(record);
            ends.push(base + e + 1);
          }
        }
        s = e + 1;
      }
      seg.s = s;
      if (records.length >= max) break;
      // `cur` has no complete line left: go on with the rest of the chunk, or keep its unfinished line.
      if (this.rest) {
        this.cur = this.rest;
        this.rest = null;
      } else {
        this.finishChunk(buf, s);
      }
    }
    return out;
  }

  private finishChunk(buf: Buffer, s: number): void {
    this.cur = null;
    if (s < buf.length && !this.skipping) {
      if (buf.length - s > MAX_LINE_BYTES) {
        // Garbage without newlines: report it once, then drop bytes up to the next newline.
        this.onCorrupt(this.pos - (buf.length - s), `line longer than ${MAX_LINE_BYTES} bytes`);
        this.skipping = true;
      } else {
        // Copy: the chunk may be a view of a buffer its source reuses.
        this.carry = Buffer.from(buf.subarray(s));
      }
    }
  }
}

interface Segment {
  buf: Buffer;
  /** File offset of buf[0]. */
  base: number;
  s: number;
  /** Lines are nearly always ASCII: then latin1 decodes them exactly like utf8, only faster. */
  encoding: 'latin1' | 'utf8';
}

const segment = (buf: Buffer, base: number, s: number): Segment => ({ buf, base, s, encoding: isAscii(buf) ? 'latin1' : 'utf8' });
