import { z } from 'zod';
import { StoredEvent } from '@homelab/contracts';

/** One line of the log: the StoredEvent as JSON plus a newline; nothing else. */
export function encodeLine(record: StoredEvent): string {
  return `${JSON.stringify(record)}\n`;
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
