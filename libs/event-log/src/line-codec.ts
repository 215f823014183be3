import { z } from 'zod';
import { StoredEvent } from '@homelab/contracts';
import { isCanonicalStoredEvent } from './canonical-event';
import type { AppendItem } from './port';

export { isCanonicalEvent, isCanonicalStoredEvent } from './canonical-event';

/** One line of the log: the StoredEvent as JSON plus a newline; nothing else. */
export function encodeLine(record: StoredEvent): string {
  return `${JSON.stringify(record)}\n`;
}

/**
 * encodeLine of `{ event, rx }`, the same bytes; an event ingest decoded from
 * an agent's payload (decodeEventPayload) comes with the payload's text,
 * which is exactly its JSON.stringify, and is written from it: stringifying
 * every event again cost about as much as parsing it.
 */
export function encodeEventLine(item: AppendItem, rx: string): string {
  return 'text' in item ? `{"event":${item.text},"rx":${JSON.stringify(rx)}}\n` : encodeLine({ event: item, rx });
}

export type DecodeResult = { ok: true; record: StoredEvent } | { ok: false; error: string };

/** Decodes one line (without its newline). Never throws: a bad line is a value the reader counts. */
export function decodeLine(text: string): DecodeResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message}` };
  }
  return decodeValue(json);
}

/** Validates a parsed line: the fast check when it can vouch for it, zod otherwise. */
export function decodeValue(json: unknown): DecodeResult {
  if (isCanonicalStoredEvent(json)) return { ok: true, record: json };
  const res = StoredEvent.safeParse(json);
  if (!res.success) return { ok: false, error: `not a StoredEvent: ${z.prettifyError(res.error)}` };
  return { ok: true, record: res.data };
}

/**
 * The seq of a line that is at least JSON with a numeric `event.seq`. Tail
 * repair and high-water recovery use this looser test on purpose: a line a
 * newer hub version wrote (unknown event type) is complete data, not a torn
 * tail, and must never be truncated away by an older version.
 */
export function looseSeq(text: string): number | null | 'not-json' {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return 'not-json';
  }
  if (typeof json !== 'object' || json === null) return 'not-json';
  const seq = (json as { event?: { seq?: unknown } }).event?.seq;
  return typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0 ? seq : null;
}
