import { describe, expect, it } from 'vitest';
import type { QuietHours } from '@homelab/contracts';
import { isQuiet, RateWindow, retryDelayMs } from './policy';

const q = (from: string, to: string, timeZone = 'UTC'): QuietHours => ({ from, to, timeZone, mode: 'silent' });

describe('quiet hours', () => {
  it.each<[string, QuietHours | undefined, string, boolean]>([
    ['none configured', undefined, '2026-12-01T03:00:00Z', false],
    ['inside a span over midnight, after midnight', q('22:00', '07:00'), '2026-12-01T03:00:00Z', true],
    ['inside a span over midnight, before midnight', q('22:00', '07:00'), '2026-12-01T22:30:00Z', true],
    ['the end minute is no longer quiet', q('22:00', '07:00'), '2026-12-01T07:00:00Z', false],
    ['the start minute is quiet', q('22:00', '07:00'), '2026-12-01T22:00:00Z', true],
    ['outside a span over midnight', q('22:00', '07:00'), '2026-12-01T12:00:00Z', false],
    ['inside a span within a day', q('12:00', '14:00'), '2026-12-01T13:59:00Z', true],
    ['equal ends are never quiet', q('12:00', '12:00'), '2026-12-01T12:00:00Z', false],
    ['in the configured zone: 23:30 in Berlin is 22:30 UTC in winter', q('23:00', '23:59', 'Europe/Berlin'), '2026-12-01T22:30:00Z', true],
    ['in the configured zone: 22:30 in Berlin is not yet quiet', q('23:00', '23:59', 'Europe/Berlin'), '2026-12-01T21:30:00Z', false],
  ])('%s', (_n, hours, now, expected) => {
    expect(isQuiet(hours, Date.parse(now))).toBe(expected);
  });
});

describe('rate window', () => {
  it('lets perMinute messages through in a minute and the next one only once the first is a minute old', () => {
    const w = new RateWindow(3);
    expect([0, 1000, 2000, 3000].map((t) => w.take(t))).toEqual([true, true, true, false]);
    expect(w.take(59_999)).toBe(false);
    expect(w.take(60_000)).toBe(true);
  });
});

describe('retry delay', () => {
  it.each([
    [0, 0],
    [1, 2_000],
    [2, 4_000],
    [5, 32_000],
    [20, 300_000],
  ])('after %i failures waits %i ms', (failures, ms) => {
    expect(retryDelayMs(failures)).toBe(ms);
  });
});
