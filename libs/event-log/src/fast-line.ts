import type { StoredEvent } from '@homelab/contracts';
import { ascii, bytesEqual, ByteInterner, isoMillisBytes, litAt, plainAscii, quoteAt } from './ascii-bytes';
import { eventData, names, SERVICE_TYPES } from './canonical-event';
import { DataMemo, NOT_VALID } from './data-memo';
import type { EventWithText } from './port';

/*
 * Replay's decoder. JSON.parse of every ~270-byte line alone is slower than
 * the replay goal (500,000 events/s on one core: docs/benchmarks.md, "Replay"), so lines laid out
 * exactly as encodeLine writes them are read without parsing the envelope:
 *
 *   {"event":{"id":"…","node":"…","seq":N,"ts":"…"[,"prevSeq":N],"type":"…"[,"service":"…"][,"data":D]},"rx":"…"}
 *
 * The line is scanned in its bytes. Strings are taken as they are only when
 * they are printable ASCII without a backslash (so their JSON value is their
 * text), numbers only in plain integer form, times only in the 24-character
 * form toISOString() writes. Only `data` (D) is JSON.parse'd, and memoised by
 * its exact bytes (data-memo.ts): heartbeats repeat the same data line after
 * line. As JSON's grammar is unambiguous, a line that is this concatenation
 * with D a JSON value parses to exactly the object built here; the fields
 * then get the checks isCanonicalStoredEvent makes. So the result is either
 * what decodeLine would return (deep equal, same key order) or undefined,
 * and the caller then runs decodeLine: anything unusual — non-ASCII, an
 * escape, another key order, an unknown key, a rare event type, a number
 * written 1e3, a time with an offset — costs a second look, never a
 * different result. fast-line.test.ts compares the two on mutated lines.
 */

const STORED = ascii('{"event":');
const ID = ascii('{"id":"');
const NODE = ascii('","node":"');
const SEQ = ascii('","seq":');
const TS = ascii(',"ts":"');
const PREV_SEQ = ascii(',"prevSeq":');
const TYPE = ascii(',"type":"');
const SERVICE = ascii(',"service":"');
const DATA = ascii(',"data":');
const TAIL = ascii('},"rx":"');

/** The event types eventData() can vouch for; the fold compares them on every event. */
const FAST_TYPES = ['service_healthy', 'service_recovered', 'service_unhealthy', 'node_heartbeat', 'disk_pressure', 'disk_ok', 'node_online', 'node_offline'];

function typeAt(b: Uint8Array, p: number, q: number): string | undefined {
  for (const t of FAST_TYPES) if (bytesEqual(b, p, q, t)) return t;
  return undefined;
}

/**
 * Buffer's own latin1 decoder, untyped in @types/node: `toString('latin1', …)`
 * calls it after argument checks that cost about a third as much again, per line.
 */
type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };

const nameAt = new ByteInterner((s) => names.intern(s));

/** The node of the previous line (a stream's lines nearly all name the same node); empty until one was accepted. */
let lastNode = '';

function nodeAt(b: Buffer, p: number, q: number): string | undefined {
  if (q > p && bytesEqual(b, p, q, lastNode)) return lastNode;
  const node = nameAt.at(b, p, q);
  if (node !== undefined) lastNode = node;
  return node;
}

const memo = new DataMemo();

/** End of the number the last `uintAt` read (a module variable rather than a tuple per number). */
let uintEnd = 0;

/** A JSON integer in plain form (`0`, or digits without a leading zero) that is a safe integer, at `b[p..]`; -1 otherwise. */
function uintAt(b: Uint8Array, p: number, end: number): number {
  let n = 0;
  let i = p;
  for (; i < end; i++) {
    const c = b[i]!;
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  const digits = i - p;
  if (digits === 0 || digits > 16 || (digits > 1 && b[p] === 48) || n > Number.MAX_SAFE_INTEGER) return -1;
  uintEnd = i;
  return n;
}

/** Where the data of the last event eventAt accepted lies in its buffer (from === to: none). */
let dataFrom = 0;
let dataTo = 0;

/**
 * The event `{"id":"…",…[,"data":D]}` in `b[s..close]`, `b[close]` being its
 * closing brace, when it is in the canonical layout and isCanonicalEvent
 * would accept it; undefined otherwise. Its strings are slices of `text`, a
 * string of the same bytes starting at `b[textStart]`.
 */
function eventAt(b: Buffer, s: number, close: number, text: string, textStart: number): Record<string, unknown> | undefined {
  if (!litAt(b, s, close, ID)) return undefined;
  // id
  const idStart = s + ID.length;
  const idEnd = quoteAt(b, idStart, close);
  if (idEnd <= idStart || idEnd - idStart > 160 || !plainAscii(b, idStart, idEnd) || !litAt(b, idEnd, close, NODE)) return undefined;
  // node
  let p = idEnd + NODE.length;
  let q = quoteAt(b, p, close);
  if (q < 0 || !litAt(b, q, close, SEQ)) return undefined;
  const node = nodeAt(b, p, q);
  if (node === undefined) return undefined;
  // seq
  const seq = uintAt(b, q + SEQ.length, close);
  if (seq < 0 || !litAt(b, uintEnd, close, TS)) return undefined;
  // ts
  const tsStart = uintEnd + TS.length;
  if (tsStart + 25 > close || b[tsStart + 24] !== 0x22 || !isoMillisBytes(b, tsStart)) return undefined;
  // prevSeq?
  p = tsStart + 25;
  let prevSeq = -1;
  if (litAt(b, p, close, PREV_SEQ)) {
    prevSeq = uintAt(b, p + PREV_SEQ.length, close);
    if (prevSeq < 0) return undefined;
    p = uintEnd;
  }
  // type
  if (!litAt(b, p, close, TYPE)) return undefined;
  p += TYPE.length;
  q = quoteAt(b, p, close);
  const type = q < 0 ? undefined : typeAt(b, p, q);
  if (type === undefined) return undefined;
  p = q + 1;
  // service (exactly the service types have one)
  let service: string | undefined;
  if (SERVICE_TYPES.has(type)) {
    if (!litAt(b, p, close, SERVICE)) return undefined;
    p += SERVICE.length;
    q = quoteAt(b, p, close);
    if (q < 0) return undefined;
    service = nameAt.at(b, p, q);
    if (service === undefined) return undefined;
    p = q + 1;
  }
  // data?
  let data: unknown = NOT_VALID;
  dataFrom = dataTo = close;
  if (close !== p) {
    if (!litAt(b, p, close, DATA)) return undefined;
    data = memo.get(b, p + DATA.length, close, type, service);
    if (data === NOT_VALID) return undefined;
    dataFrom = p + DATA.length;
  } else if (!eventData(type, undefined)) {
    return undefined;
  }
  const id = text.slice(idStart - textStart, idEnd - textStart);
  const ts = text.slice(tsStart - textStart, tsStart - textStart + 24);
  // Keys in the line's order, absent ones absent (not undefined): what JSON.parse builds.
  if (prevSeq < 0) {
    if (service === undefined) return data === NOT_VALID ? { id, node, seq, ts, type } : { id, node, seq, ts, type, data };
    return data === NOT_VALID ? { id, node, seq, ts, type, service } : { id, node, seq, ts, type, service, data };
  }
  if (service === undefined) return data === NOT_VALID ? { id, node, seq, ts, prevSeq, type } : { id, node, seq, ts, prevSeq, type, data };
  return data === NOT_VALID ? { id, node, seq, ts, prevSeq, type, service } : { id, node, seq, ts, prevSeq, type, service, data };
}

/**
 * The record of the line `b[s..e)` (without its newline) when it is in
 * encodeLine's exact layout and decodeLine would accept it, equal to what
 * decodeLine would return; undefined for any other line (then ask decodeLine,
 * which also words the errors). Keeps no reference to `b`.
 */
export function decodeCanonicalBytes(b: Buffer, s: number, e: number): StoredEvent | undefined {
  // rx, last: `},"rx":"`, 24 characters of time, `"}`; the `}` closes the event.
  const t = e - 2 - 24 - TAIL.length;
  if (t <= s || b[e - 2] !== 0x22 || b[e - 1] !== 0x7d || !litAt(b, s, t, STORED) || !litAt(b, t, e, TAIL) || !isoMillisBytes(b, t + TAIL.length))
    return undefined;
  // One string for the line (all ASCII once accepted), sliced: cheaper than decoding id, ts and rx one by one.
  // Made before the event is known to be valid: rare lines that are not pay for a string they did not need.
  const line = (b as Latin1Buffer).latin1Slice(s, e);
  const event = eventAt(b, s + STORED.length, t, line, s);
  if (event === undefined) return undefined;
  return { event: event as unknown as StoredEvent['event'], rx: line.slice(t + TAIL.length - s, e - s - 2) };
}

/** Whether `JSON.stringify(data)` is exactly the text it was parsed from, per memoised data object. */
const stringifiesToItsText = new WeakMap<object, boolean>();

/**
 * An event payload as agents publish it (`JSON.stringify` of one event),
 * when it is in the canonical layout, its text is exactly what
 * `JSON.stringify` gives of it, and isCanonicalEvent would accept it: the
 * event, equal to what JSON.parse would build, with that text. The log then
 * writes the text as it came instead of stringifying the event again
 * (encodeEventLine): callers must not change the event (ingest and the log
 * never do; the fold test checks the fold does not either). Undefined for
 * anything else: the caller parses as before.
 */
export function decodeEventPayload(b: Buffer): EventWithText | undefined {
  const close = b.length - 1;
  if (close < 1 || b[close] !== 0x7d) return undefined;
  const text = (b as Latin1Buffer).latin1Slice(0, b.length);
  const event = eventAt(b, 0, close, text, 0);
  if (event === undefined) return undefined;
  const data = event.data;
  if (typeof data === 'object' && data !== null) {
    let same = stringifiesToItsText.get(data);
    if (same === undefined) {
      same = JSON.stringify(data) === text.slice(dataFrom, dataTo);
      stringifiesToItsText.set(data, same);
    }
    if (!same) return undefined;
  }
  return { event, text } as unknown as EventWithText;
}

/** decodeCanonicalBytes for a line held as a string (tests; the reader has bytes). Non-ASCII lines are left to decodeLine. */
export function decodeCanonicalLine(line: string): StoredEvent | undefined {
  for (let i = 0; i < line.length; i++) if (line.charCodeAt(i) > 0x7f) return undefined;
  return decodeCanonicalBytes(Buffer.from(line, 'latin1'), 0, line.length);
}
