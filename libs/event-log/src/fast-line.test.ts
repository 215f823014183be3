import { describe, expect, it, vi } from 'vitest';
import type { HomelabEvent, StoredEvent } from '@homelab/contracts';
import { canonical, EVENTS, FAST, mutate, prng, TIMESTAMP_CASES } from './codec-fuzz';
import { decodeCanonicalLine, decodeEventPayload } from './fast-line';
import { decodeLine, encodeEventLine, encodeLine, isCanonicalEvent } from './line-codec';

const lineOf = (rec: StoredEvent) => encodeLine(rec).slice(0, -1);

/** Whatever the fast decoder accepts must be exactly decodeLine's record: same values, same keys in the same order, nothing undefined. */
function expectSameAsDecodeLine(line: string, fast: StoredEvent): void {
  const full = decodeLine(line);
  if (!full.ok) throw new Error(`fast decoder accepted a line decodeLine rejects: ${line}\n${full.error}`);
  expect(fast).toStrictEqual(full.record);
  expect(JSON.stringify(fast)).toBe(JSON.stringify(full.record));
}

/** Damage at the text level: escapes, quotes, structure characters, other digits, non-ASCII, control characters. */
const SNIPPETS = [
  '"',
  '\\',
  '\\"',
  '\\u0041',
  '\\n',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  ' ',
  '0',
  '1',
  '9',
  '-',
  '.',
  'e',
  'Z',
  'a',
  'é',
  '\u0001',
  '\u2028',
  'null',
  ',"x":1',
  '},"rx":"2026-03-01T10:00:00.000Z"}',
];

function damage(line: string, rnd: () => number): string {
  const at = Math.floor(rnd() * (line.length + 1));
  const snippet = SNIPPETS[Math.floor(rnd() * SNIPPETS.length)]!;
  const r = rnd();
  if (r < 0.4) return line.slice(0, at) + snippet + line.slice(at + 1);
  if (r < 0.7) return line.slice(0, at) + snippet + line.slice(at);
  return line.slice(0, at) + line.slice(at + 1 + Math.floor(rnd() * 3));
}

/** The event with a prevSeq, where zod puts it (after ts), as agents' events are stored. */
const withPrevSeq = (e: HomelabEvent): HomelabEvent => {
  const { id, node, seq, ts, ...rest } = e;
  return { id, node, seq, ts, prevSeq: Math.max(0, seq - 1), ...rest } as HomelabEvent;
};

describe('fast line decoder', () => {
  it('decodes the ASCII lines encodeLine writes of the common event types, with or without prevSeq, exactly as decodeLine does', () => {
    EVENTS.forEach((e, i) => {
      for (const ev of [e, withPrevSeq(e)]) {
        const line = lineOf(canonical(ev));
        const fast = decodeCanonicalLine(line);
        // Non-ASCII lines (a detail with “quotes”) are left to decodeLine by design.
        const ascii = !/[^\x00-\x7f]/.test(line);
        expect(fast !== undefined, `event ${i}: ${line}`).toBe(i < FAST && ascii);
        if (fast) expectSameAsDecodeLine(line, fast);
      }
    });
  });

  it('decodes every line of a varied log exactly as decodeLine does', () => {
    const rnd = prng(7);
    let fastCount = 0;
    for (let n = 0; n < 5_000; n++) {
      const e = EVENTS[Math.floor(rnd() * EVENTS.length)]!;
      const seq = Math.floor(rnd() * 2 ** 40);
      const ts = new Date(Date.UTC(2024, 1, 28) + Math.floor(rnd() * 4 * 86_400_000)).toISOString();
      let ev = { ...e, id: `node-${n % 7}-${seq}`, node: `node-${n % 7}`, seq, ts } as HomelabEvent;
      if (rnd() < 0.5) ev = withPrevSeq(ev);
      const rx = rnd() < 0.9 ? ts : ts.replace('.000Z', 'Z');
      const line = lineOf({ ...canonical(ev), rx });
      const fast = decodeCanonicalLine(line);
      if (fast) {
        fastCount++;
        expectSameAsDecodeLine(line, fast);
      } else {
        expect(decodeLine(line).ok).toBe(true);
      }
    }
    expect(fastCount).toBeGreaterThan(3_000);
  });

  it('never accepts a line decodeLine rejects or decodes differently (mutated records and damaged text)', () => {
    const rnd = prng(3);
    let accepted = 0;
    for (let n = 0; n < 40_000; n++) {
      const rec = canonical(EVENTS[n % EVENTS.length]!);
      let line: string;
      if (n % 2 === 0) {
        let v: unknown = n % 4 === 0 ? withPrevSeq(rec.event) : rec.event;
        v = mutate({ event: v, rx: rec.rx }, rnd);
        line = JSON.stringify(v) ?? '';
      } else {
        line = lineOf(rec);
        const rounds = 1 + Math.floor(rnd() * 2);
        for (let i = 0; i < rounds; i++) line = damage(line, rnd);
      }
      const fast = decodeCanonicalLine(line);
      if (fast === undefined) continue;
      accepted++;
      expectSameAsDecodeLine(line, fast);
    }
    // Enough mutated lines still decode for the comparison to mean something.
    expect(accepted).toBeGreaterThan(2_000);
  });

  it('refuses an empty node name even as the first line it decodes (nothing remembered yet)', async () => {
    vi.resetModules();
    const fresh = await import('./fast-line');
    const line = lineOf(canonical(EVENTS[0]!)).replace('"node":"piha"', '"node":""');
    expect(fresh.decodeCanonicalLine(line)).toBeUndefined();
    expect(decodeLine(line).ok).toBe(false);
  });

  it('hands out the same parsed data for repeated data, frozen so no event can change another', () => {
    const heartbeat = EVENTS[1]!;
    const a = decodeCanonicalLine(lineOf(canonical({ ...heartbeat, seq: 100, id: 'piha-100' } as HomelabEvent)));
    const b = decodeCanonicalLine(lineOf(canonical({ ...heartbeat, seq: 101, id: 'piha-101' } as HomelabEvent)));
    const data = (a?.event as { data?: { containers: unknown[] } }).data!;
    expect((b?.event as { data?: unknown }).data).toBe(data);
    expect(Object.isFrozen(data) && Object.isFrozen(data.containers) && Object.isFrozen(data.containers[0])).toBe(true);
  });

  it('leaves escaped strings, other number forms and unknown keys to decodeLine', () => {
    const rec = canonical(EVENTS[0]!);
    const line = lineOf(rec);
    const variants = [
      line.replace('"id":"piha-1"', '"id":"piha\\u002d1"'),
      line.replace('"seq":1,', '"seq":1.0,'),
      line.replace('"seq":1,', '"seq":1e0,'),
      line.replace('"type":', '"extra":1,"type":'),
      line.replace('{"event":', '{ "event":'),
      line.replace('"service":"grafana"', '"service":"grafana","data":null'),
    ];
    for (const v of variants) {
      expect(decodeCanonicalLine(v), v).toBeUndefined();
    }
    // Some of them are still valid events, which the full decoder accepts.
    expect(decodeLine(variants[0]!).ok).toBe(true);
    expect(decodeLine(variants[1]!).ok).toBe(true);
  });

  it('accepts a ts or rx exactly when decodeLine does, in the 24-character form, and leaves other forms to it', () => {
    const stamps = TIMESTAMP_CASES;
    const rec = canonical(EVENTS[0]!);
    for (const stamp of stamps) {
      for (const line of [lineOf({ ...rec, rx: stamp }), lineOf({ ...rec, event: { ...rec.event, ts: stamp } })]) {
        const fast = decodeCanonicalLine(line);
        if (fast) expectSameAsDecodeLine(line, fast);
        else if (stamp.length === 24) expect(decodeLine(line).ok, line).toBe(false);
      }
    }
  });
});

describe('event payload decoder (ingest)', () => {
  /** What it accepts must be JSON.parse's value, one ingest would accept as is, whose JSON.stringify is the payload itself. */
  function expectExact(text: string): boolean {
    const decoded = decodeEventPayload(Buffer.from(text, 'utf8'));
    if (decoded === undefined) return false;
    const { event } = decoded;
    expect(decoded.text).toBe(text);
    const parsed: unknown = JSON.parse(text);
    expect(event).toStrictEqual(parsed);
    expect(isCanonicalEvent(parsed), text).toBe(true);
    expect(JSON.stringify(event)).toBe(text);
    // The log writes it from the payload's text: the same bytes as stringifying the record.
    expect(encodeEventLine(decoded, RX_AT)).toBe(encodeLine({ event, rx: RX_AT }));
    return true;
  }
  const RX_AT = '2026-03-01T10:00:00.123Z';

  it('decodes events as agents publish them (JSON.stringify of one event) and lets the log write them as they came', () => {
    EVENTS.forEach((e, i) => {
      for (const ev of [e, withPrevSeq(e)]) {
        const text = JSON.stringify(canonical(ev).event);
        expect(expectExact(text), `event ${i}: ${text}`).toBe(i < FAST && !/[^\x00-\x7f]/.test(text));
      }
    });
  });

  it('never accepts a payload that JSON.parse and the exact check would not give as is (mutated and damaged payloads)', () => {
    const rnd = prng(5);
    let accepted = 0;
    for (let n = 0; n < 30_000; n++) {
      const event = canonical(EVENTS[n % EVENTS.length]!).event;
      let text: string;
      if (n % 2 === 0) text = JSON.stringify(mutate(n % 4 === 0 ? withPrevSeq(event) : event, rnd)) ?? '';
      else {
        text = JSON.stringify(event);
        const rounds = 1 + Math.floor(rnd() * 2);
        for (let i = 0; i < rounds; i++) text = damage(text, rnd);
      }
      if (expectExact(text)) accepted++;
    }
    expect(accepted).toBeGreaterThan(1_000);
  });

  it('leaves data JSON.stringify would write differently to the full parser, so stored lines stay byte-identical', () => {
    const text = JSON.stringify(canonical(EVENTS[8]!).event);
    expect(text).toContain('"usedPercent":40');
    for (const variant of [
      text.replace('"usedPercent":40', '"usedPercent":40.0'),
      text.replace('"data":{', '"data":{ '),
      text.replace('"data":{"mount":"/var/lib/docker"', '"data":{"mount":"\\/var/lib/docker"'),
    ]) {
      expect(decodeEventPayload(Buffer.from(variant)), variant).toBeUndefined();
      expect(JSON.stringify(JSON.parse(variant))).not.toBe(variant);
    }
  });
});
