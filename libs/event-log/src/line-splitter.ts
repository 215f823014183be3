import { isAscii } from 'node:buffer';
import { decodeLine } from './line-codec';
import type { LogRecord } from './port';
import { MAX_LINE_BYTES } from './tail';

const NL = 0x0a;

/**
 * Turns the byte chunks of one file into records, synchronously and a chunk
 * at a time (so the async machinery costs per chunk, not per line). Only
 * complete lines become records; the unfinished last line waits for the next
 * chunk, and one still unfinished at the end of the file is not consumed.
 */
export class LineSplitter {
  private carry: Buffer | null = null;
  /** File offset of the first byte of the next buffer (carry included). */
  private base: number;
  private skipping = false;

  constructor(
    private readonly rel: string,
    start: number,
    private readonly onCorrupt: (offset: number, error: string) => void,
  ) {
    this.base = start;
  }

  push(chunk: Buffer): LogRecord[] {
    const buf: Buffer = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = null;
    const out: LogRecord[] = [];
    // Lines are nearly always ASCII: then latin1 decodes them exactly like utf8, only faster.
    const encoding = isAscii(buf) ? 'latin1' : 'utf8';
    let s = 0;
    for (;;) {
      const e = buf.indexOf(NL, s);
      if (e < 0) break;
      if (this.skipping) {
        this.skipping = false;
      } else {
        const res = decodeLine(buf.toString(encoding, s, e));
        if (res.ok) out.push({ record: res.record, next: { file: this.rel, offset: this.base + e + 1 } });
        else this.onCorrupt(this.base + s, res.error);
      }
      s = e + 1;
    }
    if (s < buf.length && !this.skipping) {
      if (buf.length - s > MAX_LINE_BYTES) {
        // Garbage without newlines: report it once, then drop bytes up to the next newline.
        this.onCorrupt(this.base + s, `line longer than ${MAX_LINE_BYTES} bytes`);
        this.skipping = true;
      } else {
        // Copy: `chunk` may be a view of a buffer its source reuses.
        this.carry = Buffer.from(buf.subarray(s));
      }
    }
    this.base += this.carry ? s : buf.length;
    return out;
  }
}
