import { describe, expect, it } from 'vitest';
import { CLOCK_WINDOW_MS, CLOCK_WINDOWS, type NodeClock } from '@homelab/contracts';
import { hubTimeOf, observeClock } from './clock-offset';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const H = 3_600_000;
/** One event: received by the hub at T0 + rxMs, stamped by the node at T0 + rxMs − transitMs + aheadMs. */
type Sample = { rxMs: number; aheadMs: number; transitMs: number };
const s = (rxMs: number, aheadMs: number, transitMs = 5): Sample => ({ rxMs, aheadMs, transitMs });

function measure(samples: Sample[]): NodeClock | undefined {
  let clock: NodeClock | undefined;
  for (const x of samples) clock = observeClock(clock, T0 + x.rxMs, T0 + x.rxMs - x.transitMs + x.aheadMs);
  return clock;
}

describe('observeClock: the smallest rx − ts of the last windows', () => {
  const cases: { name: string; samples: Sample[]; offsetMs: number }[] = [
    { name: 'a node 5 h ahead, one event', samples: [s(0, 5 * H)], offsetMs: 5 * H - 5 },
    { name: 'a node 5 h behind, one event', samples: [s(0, -5 * H)], offsetMs: -5 * H - 5 },
    { name: 'a node in step: only the transit is left', samples: [s(0, 0, 30), s(1000, 0, 8), s(2000, 0, 20)], offsetMs: -8 },
    {
      name: 'transit is one-sided: a slow event never makes the node look further behind',
      samples: [s(0, 5 * H, 3), s(1000, 5 * H, 2500)],
      offsetMs: 5 * H - 3,
    },
    {
      name: 'a backlog delivered after an hour of silence does not move it (the windows from before still count)',
      samples: [s(0, 0, 4), s(20_000, 0, 6), ...Array.from({ length: 50 }, (_, i) => s(H + i * 10, 0, H - i * 60_000))],
      offsetMs: -4,
    },
    {
      name: 'a clock fixed from +5 h: the old windows age out after CLOCK_WINDOWS windows of events',
      samples: [s(0, 5 * H), ...Array.from({ length: CLOCK_WINDOWS }, (_, i) => s((i + 1) * CLOCK_WINDOW_MS, 0, 7))],
      offsetMs: -7,
    },
    {
      name: 'a clock fixed from +5 h, one window short of ageing out: still +5 h',
      samples: [s(0, 5 * H), ...Array.from({ length: CLOCK_WINDOWS - 1 }, (_, i) => s((i + 1) * CLOCK_WINDOW_MS, 0, 7))],
      offsetMs: 5 * H - 5,
    },
    { name: 'a clock stepped to +5 h shows at once', samples: [s(0, 0), s(1000, 5 * H)], offsetMs: 5 * H - 5 },
    { name: 'exactly in step, no transit: 0, not -0', samples: [s(0, 0, 0)], offsetMs: 0 },
  ];
  it.each(cases)('$name', ({ samples, offsetMs }) => {
    const clock = measure(samples)!;
    expect(clock.offsetMs).toBe(offsetMs);
    expect(Object.is(clock.offsetMs, -0)).toBe(false);
    expect(clock.windows.length).toBeLessThanOrEqual(CLOCK_WINDOWS);
  });

  it('keeps the windows in order when the hub clock steps back (the sample joins the newest window)', () => {
    const clock = measure([s(10 * CLOCK_WINDOW_MS, 0, 50), s(0, 0, 9)])!;
    expect(clock.windows).toEqual([[T0 + 10 * CLOCK_WINDOW_MS, 9]]);
    expect(clock.offsetMs).toBe(-9);
  });

  it('ignores a sample that is not a number of ms, and starts no clock from it', () => {
    expect(observeClock(undefined, T0, Number.NaN)).toBeUndefined();
    const clock = measure([s(0, 2 * H)])!;
    expect(observeClock(clock, Number.NaN, T0)).toEqual(measure([s(0, 2 * H)]));
  });

  it('gives the same result for the same samples (a replay measures what the live fold did)', () => {
    const samples = Array.from({ length: 200 }, (_, i) => s(i * 3_000, (i % 7) * 1000, (i * 37) % 500));
    expect(measure(samples)).toEqual(measure(samples));
  });
});

describe('hubTimeOf: a node stamp in the hub time', () => {
  const ts = '2026-03-01T15:00:00.000Z';
  it.each([
    { name: 'no clock yet: the stamp as it is', clock: undefined, want: ts },
    { name: 'offset 0: the same string', clock: { offsetMs: 0, windows: [] }, want: ts },
    { name: 'a node 5 h ahead: 5 h earlier', clock: { offsetMs: 5 * H, windows: [] }, want: '2026-03-01T10:00:00.000Z' },
    { name: 'a node 5 h behind: 5 h later', clock: { offsetMs: -5 * H, windows: [] }, want: '2026-03-01T20:00:00.000Z' },
  ])('$name', ({ clock, want }) => {
    expect(hubTimeOf(clock, ts)).toBe(want);
  });

  it('is never later than the receipt of the event just measured', () => {
    for (const aheadMs of [-5 * H, -1500, 0, 1500, 5 * H]) {
      for (const transitMs of [0, 3, 900]) {
        const rx = T0 + 60_000;
        const ts = new Date(rx - transitMs + aheadMs).toISOString();
        const clock = observeClock({ offsetMs: -1, windows: [[T0, 1]] }, rx, Date.parse(ts));
        expect(Date.parse(hubTimeOf(clock, ts))).toBeLessThanOrEqual(rx);
      }
    }
  });
});
