import fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { looseSeq } from './line-codec';

/** No legitimate line is anywhere near this; a longer one is garbage (e.g. a run of NULs after a crash). */
export const MAX_LINE_BYTES = 8 * 1024 * 1024;
const CHUNK = 64 * 1024;
const NL = 0x0a;

export interface TailInfo {
  /** Size after any repair. */
  size: number;
  /** Bytes cut off the end (0 when the tail was clean). */
  removed: number;
  /** Seq of the last line that has one; null when no line does. */
  lastSeq: number | null;
}

/** Index of the last `\n` strictly before `before`, or -1. Reads backwards in chunks, keeping nothing. */
async function prevNewline(fh: FileHandle, before: number, buf: Buffer): Promise<number> {
  let end = before;
  while (end > 0) {
    const start = Math.max(0, end - CHUNK);
    const { bytesRead } = await fh.read(buf, 0, end - start, start);
    const i = buf.subarray(0, bytesRead).lastIndexOf(NL);
    if (i >= 0) return start + i;
    end = start;
  }
  return -1;
}

async function readText(fh: FileHandle, start: number, len: number): Promise<string> {
  const b = Buffer.allocUnsafe(len);
  const { bytesRead } = await fh.read(b, 0, len, start);
  return b.toString('utf8', 0, bytesRead);
}

/**
 * Finds the last good line of a log file and, with `repair`, truncates what
 * follows it: a final line without `\n` (a write cut short by a crash) and any
 * trailing lines that are not JSON (docs/reliability.md, "A torn tail is cut,
 * never trusted"; safe because nothing was acked before its fdatasync). A bad line
 * followed by good ones is left in place: readers skip and count it.
 */
export async function inspectTail(file: string, repair: boolean): Promise<TailInfo> {
  const fh = await fs.open(file, repair ? 'r+' : 'r');
  try {
    const size = (await fh.stat()).size;
    const buf = Buffer.allocUnsafe(CHUNK);
    let lineEnd = await prevNewline(fh, size, buf);
    let goodEnd = lineEnd + 1;
    let trailing = true;
    let lastSeq: number | null = null;
    while (lineEnd >= 0) {
      const start = (await prevNewline(fh, lineEnd, buf)) + 1;
      const len = lineEnd - start;
      const verdict = len > MAX_LINE_BYTES ? 'not-json' : looseSeq(await readText(fh, start, len));
      if (verdict === 'not-json') {
        if (trailing) goodEnd = start;
      } else {
        trailing = false;
        if (verdict !== null) {
          lastSeq = verdict;
          break;
        }
      }
      lineEnd = start - 1;
    }
    if (!repair || goodEnd >= size) return { size, removed: 0, lastSeq };
    await fh.truncate(goodEnd);
    await fh.sync();
    return { size: goodEnd, removed: size - goodEnd, lastSeq };
  } finally {
    await fh.close();
  }
}
