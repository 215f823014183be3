import { allAscii } from './ascii-bytes';
import { eventData } from './canonical-event';

/** What DataMemo.get returns for data it cannot vouch for (JSON.parse never returns a symbol). */
export const NOT_VALID: unique symbol = Symbol('not valid data');

/** Entries per event type; a full table is emptied and refills (bounded memory, whatever the log holds). */
const MAX_PER_TYPE = 8192;

/** Node heartbeats carry the uptime: their data never repeats, so memoising it would only cost. */
const NEVER_REPEATS: ReadonlySet<string> = new Set(['node_heartbeat']);

interface Last {
  bytes: Uint8Array;
  value: unknown;
}

/** Native comparison (memcmp): data runs to ~100 bytes, where a JavaScript loop costs more than the call. */
const sameBytes = (b: Buffer, from: number, to: number, bytes: Uint8Array): boolean =>
  to - from === bytes.length && b.compare(bytes, 0, bytes.length, from, to) === 0;

/**
 * The fast line decoder's `data`: parsed, validated (eventData) and frozen,
 * by event type and exact JSON text. Heartbeats repeat the same data line
 * after line, so most lines cost a comparison instead of a JSON.parse. Two
 * levels: the data last seen for the same type and service, compared byte by
 * byte in place (no string, no hashing), then a table by text. ASCII only
 * (then latin1 and UTF-8 read the same text). Frozen because one object now
 * stands for many events: the fold stores `containers` into the world and
 * must never be able to change another event's data through it (it does not
 * mutate events; freezing makes sure).
 */
export class DataMemo {
  private readonly byText = new Map<string, Map<string, unknown>>();
  private readonly last = new Map<string, Map<string, Last>>();

  /** The data in `b[from..to)` of an event of `type` (and `service`), or NOT_VALID. */
  get(b: Buffer, from: number, to: number, type: string, service: string | undefined): unknown {
    if (NEVER_REPEATS.has(type)) return allAscii(b, from, to) ? parseData(type, b.toString('latin1', from, to)) : NOT_VALID;
    let lastOfType = this.last.get(type);
    if (lastOfType === undefined) this.last.set(type, (lastOfType = new Map()));
    const key = service ?? '';
    const last = lastOfType.get(key);
    if (last !== undefined && sameBytes(b, from, to, last.bytes)) return last.value;
    if (!allAscii(b, from, to)) return NOT_VALID;
    const value = this.byTextOf(type, b.toString('latin1', from, to));
    if (value === NOT_VALID) return value;
    // A copy: `b` is the reader's buffer, reused for the next chunk.
    const bytes = new Uint8Array(b.subarray(from, to));
    if (last !== undefined) {
      last.bytes = bytes;
      last.value = value;
    } else {
      if (lastOfType.size >= MAX_PER_TYPE) lastOfType.clear();
      lastOfType.set(key, { bytes, value });
    }
    return value;
  }

  private byTextOf(type: string, text: string): unknown {
    let table = this.byText.get(type);
    if (table === undefined) this.byText.set(type, (table = new Map()));
    const have = table.get(text);
    if (have !== undefined) return have;
    const value = parseData(type, text);
    if (value === NOT_VALID) return value;
    if (table.size >= MAX_PER_TYPE) table.clear();
    table.set(text, deepFreeze(value));
    return value;
  }
}

/** The parsed data when it is JSON that eventData accepts for `type`, else NOT_VALID. */
function parseData(type: string, text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return NOT_VALID;
  }
  return eventData(type, value) ? value : NOT_VALID;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
    Object.freeze(v);
  }
  return v;
}
