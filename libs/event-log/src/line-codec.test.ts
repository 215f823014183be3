import { describe, expect, it } from 'vitest';
import { HomelabEvent, IsoTime, StoredEvent } from '@homelab/contracts';
import { canonical, clone, EVENTS, FAST, mutate, prng } from './codec-fuzz';
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
    const stamps = [
      '2026-03-01T10:00:00.000Z',
      '2026-12-31T23:59:59.999Z',
      '2024-02-29T00:00:00.000Z',
      '2000-02-29T12:00:00.000Z',
      '2026-04-30T00:00:00.000Z',
      '2026-01-31T00:00:00.000Z',
      '2026-03-01T10:00:00Z',
      '2026-03-01T10:00:00.5Z',
      '2026-03-01T10:00:00.123456Z',
      '2026-02-29T00:00:00.000Z',
      '1900-02-29T00:00:00.000Z',
      '2026-04-31T00:00:00.000Z',
      '2026-01-45T00:00:00.000Z',
      '2026-01-32T00:00:00.000Z',
      '2026-00-10T00:00:00.000Z',
      '2026-13-10T00:00:00.000Z',
      '2026-01-00T00:00:00.000Z',
      '2026-01-01T24:00:00.000Z',
      '2026-01-01T23:60:00.000Z',
      '2026-01-01T23:00:60.000Z',
      'x026-01-01T00:00:00.000Z',
      '2026-01-01 00:00:00.000Z',
      '2026-01-01T00:00:00.000z',
      '2026-01-01T00:00:00.000+00:00',
      '2026-01-01T00:00:00.00aZ',
      '2026-1-01T00:00:00.000Z',
      '',
      '2026-01-01',
    ];
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
