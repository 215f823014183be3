import { decodeLine } from './line-codec';
import { MAX_LINE_BYTES } from './tail';

const NL = 0x0a;

/**
 * Raw bytes copied into the quarantine per line. Every line a valid MQTT
 * payload can produce fits (the broker refuses packets above 256 KiB); only
 * garbage is cut, and the log file keeps the original in full anyway.
 */
export const RAW_COPY_BYTES = 1024 * 1024;

export interface CorruptLine {
  /** Byte offset of the line's first byte (uncompressed, like LogPosition offsets). */
  offset: number;
  /** Bytes of the line, without its newline. */
  length: number;
  reason: string;
  /** The first RAW_COPY_BYTES bytes of the line. */
  raw: Buffer;
}

/**
 * Finds the lines a reader would skip (same test: `decodeLine`), from byte
 * chunks of one file, keeping their raw bytes. Only lines ended by `\n` count:
 * an unfinished last line is a torn tail (repaired at open) or still being
 * written. Memory stays bounded on lines of any length.
 */
export class CorruptLineFinder {
  /** Pieces of the unfinished line, copied (chunks may be views of a reused buffer). */
  private pieces: Buffer[] = [];
  private pendingLen = 0;
  /** The unfinished line passed MAX_LINE_BYTES: only its first RAW_COPY_BYTES are kept. */
  private oversize = false;
  private lineStart: number;
  private pos: number;

  constructor(start: number) {
    this.lineStart = start;
    this.pos = start;
  }

  /** Offset just after the last complete line seen: where a later scan may resume. */
  get scannedUpTo(): number {
    return this.lineStart;
  }

  push(chunk: Buffer): CorruptLine[] {
    const out: CorruptLine[] = [];
    let s = 0;
    for (;;) {
      const e = chunk.indexOf(NL, s);
      if (e < 0) break;
      if (this.pendingLen === 0 && !this.oversize) {
        // The common case: the whole line is inside this chunk, decode without copying.
        const res = decodeLine(chunk.toString('utf8', s, e));
        if (!res.ok)
          out.push({ offset: this.lineStart, length: e - s, reason: res.error, raw: Buffer.from(chunk.subarray(s, Math.min(e, s + RAW_COPY_BYTES))) });
      } else {
        this.keep(chunk.subarray(s, e));
        out.push(...this.finishPending());
      }
      this.lineStart = this.pos + e + 1;
      s = e + 1;
    }
    if (s < chunk.length) this.keep(chunk.subarray(s));
    this.pos += chunk.length;
    return out;
  }

  private keep(piece: Buffer): void {
    const before = this.pendingLen;
    this.pendingLen += piece.length;
    if (!this.oversize && this.pendingLen > MAX_LINE_BYTES) {
      this.oversize = true;
      this.pieces = [Buffer.from(Buffer.concat(this.pieces).subarray(0, RAW_COPY_BYTES))];
    }
    const room = this.oversize ? RAW_COPY_BYTES - Math.min(before, RAW_COPY_BYTES) : piece.length;
    if (room > 0) this.pieces.push(Buffer.from(piece.subarray(0, room)));
  }

  private finishPending(): CorruptLine[] {
    const line = Buffer.concat(this.pieces);
    const length = this.pendingLen;
    const oversize = this.oversize;
    this.pieces = [];
    this.pendingLen = 0;
    this.oversize = false;
    if (oversize) return [{ offset: this.lineStart, length, reason: `line longer than ${MAX_LINE_BYTES} bytes`, raw: line }];
    const res = decodeLine(line.toString('utf8'));
    return res.ok ? [] : [{ offset: this.lineStart, length, reason: res.error, raw: line.subarray(0, RAW_COPY_BYTES) }];
  }
}
