import { describe, expect, it } from 'vitest';
import { HubClock } from './hub-clock';

const HUB = Date.parse('2026-01-01T12:00:00.000Z');

describe('HubClock: the hub time from command stamps and the monotonic clock', () => {
  it('knows nothing before the first stamp', () => {
    const c = new HubClock(() => 0);
    expect(c.now()).toBeNull();
    expect(c.offsetMs(HUB)).toBeNull();
  });

  it.each([
    { name: 'a stamp received just now', stamps: [[1000, HUB]], at: 1000, hub: HUB },
    { name: 'time moves on with the monotonic clock', stamps: [[1000, HUB]], at: 61_000, hub: HUB + 60_000 },
    {
      name: 'a later, tighter stamp wins',
      stamps: [
        [1000, HUB],
        [5000, HUB + 4500],
      ],
      at: 5000,
      hub: HUB + 4500,
    },
    {
      name: 'an old stamp (a resend, a late delivery) does not pull it back',
      stamps: [
        [1000, HUB],
        [300_000, HUB - 60_000],
      ],
      at: 300_000,
      hub: HUB + 299_000,
    },
    {
      name: 'a stamp that is not a number is ignored',
      stamps: [
        [1000, HUB],
        [2000, Number.NaN],
      ],
      at: 2000,
      hub: HUB + 1000,
    },
  ])('$name', ({ stamps, at, hub }) => {
    let mono = 0;
    const c = new HubClock(() => mono);
    for (const [m, stamp] of stamps) {
      mono = m!;
      c.observe(stamp!);
    }
    mono = at;
    expect(c.now()).toBe(hub);
  });

  it('gives the offset of this agent wall clock against the hub, whichever way it is off', () => {
    const c = new HubClock(() => 0);
    c.observe(HUB);
    expect(c.offsetMs(HUB + 5 * 3_600_000)).toBe(5 * 3_600_000);
    expect(c.offsetMs(HUB - 5 * 3_600_000)).toBe(-5 * 3_600_000);
  });

  it('takes a fresh stamp over a tighter one older than refreshMs, so oscillator drift cannot add up', () => {
    let mono = 0;
    const c = new HubClock(() => mono, 10_000);
    c.observe(HUB);
    mono = 20_000;
    c.observe(HUB + 19_000);
    expect(c.now()).toBe(HUB + 19_000);
  });

  it('tells time in whole milliseconds although the monotonic clock has fractions (timers take only integers)', () => {
    let mono = 1234.567;
    const c = new HubClock(() => mono);
    c.observe(HUB);
    mono = 86_227.9;
    expect(Number.isInteger(c.now())).toBe(true);
    expect(c.now()).toBe(HUB + 84_993);
  });
});
