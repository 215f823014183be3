/**
 * Byte-level helpers of the fast line decoder (fast-line.ts). It reads a line
 * in its Buffer: a byte read costs a fraction of a `charCodeAt` or a
 * `startsWith` on a string, and strings are then made only of what the
 * record keeps. Everything here accepts ASCII only, where latin1 and UTF-8
 * decode to the same text.
 */

/** The bytes of an ASCII literal. */
export const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** True when `lit` is at `b[p..]`, entirely before `end`. */
export function litAt(b: Uint8Array, p: number, end: number, lit: Uint8Array): boolean {
  if (p + lit.length > end) return false;
  for (let i = 0; i < lit.length; i++) if (b[p + i] !== lit[i]) return false;
  return true;
}

/** True when `b[p..q)` spells `s` (an ASCII string). */
export function bytesEqual(b: Uint8Array, p: number, q: number, s: string): boolean {
  if (q - p !== s.length) return false;
  for (let i = 0; i < s.length; i++) if (b[p + i] !== s.charCodeAt(i)) return false;
  return true;
}

/** Index of the next `"` in `b[p..end)`, or -1. */
export function quoteAt(b: Uint8Array, p: number, end: number): number {
  for (let i = p; i < end; i++) if (b[i] === 0x22) return i;
  return -1;
}

/** True when `b[p..q)` is printable ASCII without a backslash: inside quotes, its JSON string value is its own text. */
export function plainAscii(b: Uint8Array, p: number, q: number): boolean {
  for (let i = p; i < q; i++) {
    const c = b[i]!;
    if (c < 0x20 || c > 0x7f || c === 0x5c) return false;
  }
  return true;
}

/** True when every byte of `b[p..q)` is ASCII. */
export function allAscii(b: Uint8Array, p: number, q: number): boolean {
  for (let i = p; i < q; i++) if (b[i]! > 0x7f) return false;
  return true;
}

const digit = (b: Uint8Array, i: number): boolean => b[i]! >= 48 && b[i]! <= 57;
const two = (b: Uint8Array, i: number): number => (b[i]! - 48) * 10 + b[i + 1]! - 48;

/**
 * True when `b[p..p+24)` is `YYYY-MM-DDTHH:MM:SS.mmmZ` with a day that exists:
 * exactly what isoTime (canonical-event.ts) accepts of that length, which is
 * the form `toISOString()` writes. Other forms are left to the full decoder.
 */
export function isoMillisBytes(b: Uint8Array, p: number): boolean {
  const digitsOk =
    digit(b, p) &&
    digit(b, p + 1) &&
    digit(b, p + 2) &&
    digit(b, p + 3) &&
    digit(b, p + 5) &&
    digit(b, p + 6) &&
    digit(b, p + 8) &&
    digit(b, p + 9) &&
    digit(b, p + 11) &&
    digit(b, p + 12) &&
    digit(b, p + 14) &&
    digit(b, p + 15) &&
    digit(b, p + 17) &&
    digit(b, p + 18) &&
    digit(b, p + 20) &&
    digit(b, p + 21) &&
    digit(b, p + 22);
  if (!digitsOk) return false;
  if (b[p + 4] !== 0x2d || b[p + 7] !== 0x2d || b[p + 10] !== 0x54 || b[p + 13] !== 0x3a || b[p + 16] !== 0x3a || b[p + 19] !== 0x2e || b[p + 23] !== 0x5a)
    return false;
  const month = two(b, p + 5);
  const day = two(b, p + 8);
  if (month < 1 || month > 12 || day < 1 || day > 31 || two(b, p + 11) > 23 || two(b, p + 14) > 59 || two(b, p + 17) > 59) return false;
  if (day <= 28) return true;
  if (month !== 2) return day <= 30 || month === 1 || month === 3 || month === 5 || month === 7 || month === 8 || month === 10 || month === 12;
  if (day > 29) return false;
  const year = two(b, p) * 100 + two(b, p + 2);
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * Strings that recur (node and service names) by their bytes, without
 * decoding them: a hash of the bytes finds the candidate, a comparison
 * confirms it, and every line naming it gets the same string instance (the
 * fold's lookups keyed by it then skip re-hashing copies). New ones are
 * decoded and must pass `accept`. Bounded: a full table is emptied.
 */
export class ByteInterner {
  private readonly table = new Map<number, string>();
  constructor(private readonly accept: (s: string) => string | undefined) {}

  at(b: Buffer, p: number, q: number): string | undefined {
    let h = 0x811c9dc5;
    for (let i = p; i < q; i++) h = Math.imul(h ^ b[i]!, 16777619);
    h &= 0x3fffffff; // a small integer: no heap number per lookup
    const have = this.table.get(h);
    if (have !== undefined && bytesEqual(b, p, q, have)) return have;
    if (!allAscii(b, p, q)) return undefined;
    const s = this.accept(b.toString('latin1', p, q));
    if (s === undefined) return undefined;
    if (this.table.size >= 4096) this.table.clear();
    this.table.set(h, s);
    return s;
  }
}
