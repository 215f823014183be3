import { describe, expect, it } from 'vitest';
import { HomelabEvent, IsoTime, StoredEvent } from '@homelab/contracts';
import { canonical, clone, EVENTS, FAST, mutate, prng, TIMESTAMP_CASES } from './codec-fuzz';
import { decodeLine, encodeLine, isCanonicalEvent, isCanonicalStoredEvent } from './line-codec';

describe('line codec fast path', () => {
  it('vouches for what FsEventLog writes of the common event types, and decodes it exactly as zod would', () => {
    EVENTS.forEach((e, i) => {
      const rec = canonical(e);
      const text = encodeLine(rec).slice(0, -1);
      expect(isCanonicalStoredEvent(JSON.parse(text)), `event ${i}`).toBe(i < FAST);
      const res = decodeLine(text);
      expect(res.ok).toBe(true);
      if (res.ok) expect(JSON.stringify(res.record)).toBe(JSON.stringify(rec));
    });
  });

  it('never accepts what zod rejects or would return differently (mutations of valid records)', () => {
    const rnd = prng(1);
    let vouched = 0;
    for (let n = 0; n < 20_000; n++) {
      let v: unknown = canonical(EVENTS[n % EVENTS.length]!);
      const rounds = 1 + Math.floor(rnd() * 2);
      for (let i = 0; i < rounds; i++) v = mutate(v, rnd);
      const event = (v as { event?: unknown }).event;
      if (isCanonicalEvent(event)) {
        const ze = HomelabEvent.safeParse(event);
        if (!ze.success || JSON.stringify(ze.data) !== JSON.stringify(event)) throw new Error(`fast path accepted event ${JSON.stringify(event)}`);
      }
      if (!isCanonicalStoredEvent(v)) continue;
      vouched++;
      const z = StoredEvent.safeParse(v);
      if (!z.success || JSON.stringify(z.data) !== JSON.stringify(v)) {
        throw new Error(`fast path accepted ${JSON.stringify(v)}; zod: ${z.success ? JSON.stringify(z.data) : z.error.message}`);
      }
    }
    // The mutations must leave enough accepted records for the check to mean something.
    expect(vouched).toBeGreaterThan(1_000);
  });

  it('accepts a timestamp only when zod does', () => {
    const rec = canonical(EVENTS[0]!);
    const stamps = TIMESTAMP_CASES;
    for (const ts of stamps) {
      const zodOk = IsoTime.safeParse(ts).success;
      const fast = isCanonicalStoredEvent({ ...rec, rx: ts });
      expect(fast && !zodOk, ts).toBe(false);
      if (zodOk && ts.endsWith('Z')) expect(fast, ts).toBe(true);
    }
  });

  it('leaves another key order to zod, which returns keys in schema order', () => {
    const rec = canonical(EVENTS[1]!);
    const reordered = { rx: rec.rx, event: { ...rec.event, data: undefined, id: rec.event.id, type: rec.event.type } };
    reordered.event.data = rec.event.data as never;
    expect(isCanonicalStoredEvent(clone(reordered))).toBe(false);
    const res = decodeLine(JSON.stringify(reordered));
    expect(res.ok && JSON.stringify(res.record)).toBe(JSON.stringify(rec));
  });

  it('reports invalid lines as before', () => {
    expect(decodeLine('{"event":{}}')).toMatchObject({ ok: false, error: expect.stringContaining('not a StoredEvent') });
    expect(decodeLine('{"event":')).toMatchObject({ ok: false, error: expect.stringContaining('not JSON') });
    const bad = { ...canonical(EVENTS[0]!), rx: '2026-02-30T00:00:00Z' };
    expect(decodeLine(JSON.stringify(bad)).ok).toBe(false);
  });
});
