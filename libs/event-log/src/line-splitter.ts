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
  private buf: Buffer | null = null;
  private encoding: 'latin1' | 'utf8' = 'utf8';
  /** Next line start in `buf`. */
  private s = 0;
  /** File offset of the first byte of `buf` (carry included). */
  private base: number;
  private skipping = false;

  constructor(
    private readonly rel: string,
    start: number,
    private readonly onCorrupt: (offset: number, error: string) => void,
  ) {
    this.base = start;
  }

  /** The chunk stays in use until `take` returns an empty batch (it may be a view of a buffer its source reuses). */
  push(chunk: Buffer): void {
    this.buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = null;
    this.s = 0;
    // Lines are nearly always ASCII: then latin1 decodes them exactly like utf8, only faster.
    this.encoding = isAscii(this.buf) ? 'latin1' : 'utf8';
  }

  /** Up to `max` records of the pushed chunk; none once it is used up (its unfinished line then kept for the next). */
  take(max = RECORDS_PER_TAKE): RecordBatch {
    const buf = this.buf;
    const out: RecordBatch = { file: this.rel, records: [], ends: [] };
    if (!buf) return out;
    const { records, ends } = out;
    let s = this.s;
    while (records.length < max) {
      const e = buf.indexOf(NL, s);
      if (e < 0) break;
      if (this.skipping) {
        this.skipping = false;
      } else {
        // The layout encodeLine writes is decoded without JSON.parse of the envelope; anything else gets the full decoder.
        let record = decodeCanonicalBytes(buf, s, e);
        if (record === undefined) {
          const res = decodeLine(buf.toString(this.encoding, s, e));
          if (res.ok) record = res.record;
          else this.onCorrupt(this.base + s, res.error);
        }
        if (record !== undefined) {
          records.push(record);
          ends.push(this.base + e + 1);
        }
      }
      s = e + 1;
    }
    this.s = s;
    if (records.length === 0) this.finishChunk(buf, s);
    return out;
  }

  private finishChunk(buf: Buffer, s: number): void {
    this.buf = null;
    if (s < buf.length && !this.skipping) {
      if (buf.length - s > MAX_LINE_BYTES) {
        // Garbage without newlines: report it once, then drop bytes up to the next newline.
        this.onCorrupt(this.base + s, `line longer than ${MAX_LINE_BYTES} bytes`);
        this.skipping = true;
      } else {
        // Copy: the chunk may be a view of a buffer its source reuses.
        this.carry = Buffer.from(buf.subarray(s));
      }
    }
    this.base += this.carry ? s : buf.length;
  }
}
