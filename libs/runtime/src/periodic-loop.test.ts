import { describe, expect, it } from 'vitest';
import { ManualClock } from '@homelab/contracts';
import { createLogger } from '@homelab/logging';
import { flushTurns, gate, isSettled } from '@homelab/testkit';
import { LoopStoppedError, PeriodicLoop, type PeriodicLoopOptions } from './periodic-loop';

const log = createLogger('test', { level: 'silent' });

/**
 * A loop whose cycles the test drives: `starts` counts cycles begun; while
 * `hold` is set a cycle waits for it; `fail` makes the next cycles reject.
 */
function harness(opts: Partial<PeriodicLoopOptions<number>> = {}) {
  const clock = new ManualClock();
  const h = { clock, starts: 0, ends: 0, hold: null as Promise<void> | null, fail: false, startedAt: [] as number[], failures: [] as number[] };
  const loop = new PeriodicLoop<number>({
    name: 'test loop',
    clock,
    log,
    run: async () => {
      const n = ++h.starts;
      h.startedAt.push(clock.now().getTime() - Date.parse('2026-01-01T00:00:00.000Z'));
      if (h.hold) await h.hold;
      h.ends++;
      if (h.fail) throw new Error(`cycle ${n} failed`);
      return n;
    },
    onFailure: (_err, failures) => h.failures.push(failures),
    ...opts,
  });
  return { h, loop, clock };
}

describe('PeriodicLoop', () => {
  it('runs nothing before start, then each interval after the previous cycle ended', async () => {
    const { h, loop, clock } = harness();
    clock.advance(10_000);
    expect(h.starts).toBe(0);
    loop.start(1000);
    clock.advance(999);
    expect(h.starts).toBe(0);
    clock.advance(1);
    expect(h.starts).toBe(1);
    await flushTurns();
    clock.advance(1000);
    await flushTurns();
    expect(h.startedAt).toEqual([11_000, 12_000]);
    await loop.stop();
  });

  it('runs the first cycle within start when the first delay is 0', () => {
    const { h, loop } = harness();
    loop.start(1000, 0);
    expect(h.starts).toBe(1);
    void loop.stop();
  });

  it('times a synchronous cycle from its end at once: several fit in one clock advance', () => {
    const clock = new ManualClock();
    let runs = 0;
    const loop = new PeriodicLoop<void>({ name: 'sync loop', clock, log, run: () => void runs++ });
    loop.start(100, 0);
    clock.advance(1000);
    expect(runs).toBe(11);
    void loop.stop();
  });

  it('coalesces kicks that come while a cycle runs into one cycle right after it', async () => {
    const { h, loop, clock } = harness();
    loop.start(60_000);
    const g = gate();
    h.hold = g.opened;
    loop.kick();
    clock.advance(0);
    expect(h.starts).toBe(1);
    loop.kick();
    loop.kick();
    loop.kick();
    h.hold = null;
    g.open();
    await flushTurns();
    clock.advance(0);
    await flushTurns();
    expect(h.starts).toBe(2);
    clock.advance(59_999);
    await flushTurns();
    expect(h.starts).toBe(2);
    await loop.stop();
  });

  it('debounces a burst of kicks into one cycle debounceMs after the first', async () => {
    const { h, loop, clock } = harness({ debounceMs: 20 });
    loop.start(60_000);
    loop.kick();
    clock.advance(10);
    loop.kick();
    clock.advance(9);
    expect(h.starts).toBe(0);
    clock.advance(1);
    expect(h.starts).toBe(1);
    expect(h.startedAt).toEqual([20]);
    await flushTurns();
    clock.advance(1000);
    expect(h.starts).toBe(1);
    await loop.stop();
  });

  it('with leading kicks, runs the first kick of a burst at once and the rest of the burst once, debounceMs after it ended', async () => {
    const { h, loop, clock } = harness({ debounceMs: 20, leading: true });
    loop.start(60_000);
    loop.kick();
    expect(h.starts).toBe(0); // never inside kick(): on the next timer turn
    clock.advance(0);
    expect(h.startedAt).toEqual([0]);
    const g = gate();
    h.hold = g.opened;
    await flushTurns();
    // Ended at 0: kicks within the next 20 ms wait for what is left of them, and coalesce.
    clock.advance(5);
    loop.kick();
    clock.advance(10);
    loop.kick();
    clock.advance(4);
    expect(h.starts).toBe(1);
    clock.advance(1);
    expect(h.startedAt).toEqual([0, 20]);
    // Kicks during that cycle ask for one more, 20 ms after it ended.
    loop.kick();
    loop.kick();
    clock.advance(7);
    h.hold = null;
    g.open();
    await flushTurns();
    clock.advance(19);
    expect(h.starts).toBe(2);
    clock.advance(1);
    expect(h.startedAt).toEqual([0, 20, 47]);
    await flushTurns();
    // Quiet for longer than the debounce: the next kick runs at once again.
    clock.advance(100);
    loop.kick();
    clock.advance(0);
    expect(h.startedAt).toEqual([0, 20, 47, 147]);
    await loop.stop();
  });

  it('without leading kicks, a kick after a long quiet still waits debounceMs', async () => {
    const { h, loop, clock } = harness({ debounceMs: 20 });
    loop.start(60_000);
    clock.advance(1000);
    loop.kick();
    clock.advance(19);
    expect(h.starts).toBe(0);
    clock.advance(1);
    expect(h.startedAt).toEqual([1020]);
    await loop.stop();
  });

  it('ignores kicks before start unless kickBeforeStart, and runs no interval before start', async () => {
    const ignoring = harness();
    ignoring.loop.kick();
    ignoring.clock.advance(1000);
    expect(ignoring.h.starts).toBe(0);

    const { h, loop, clock } = harness({ kickBeforeStart: true, debounceMs: 5 });
    loop.kick();
    clock.advance(5);
    expect(h.starts).toBe(1);
    await flushTurns();
    clock.advance(60_000);
    expect(h.starts).toBe(1);
  });

  it('started during a kicked cycle, times the next cycle from its end, once', async () => {
    const { h, loop, clock } = harness({ kickBeforeStart: true });
    const g = gate();
    h.hold = g.opened;
    loop.kick();
    clock.advance(0);
    loop.start(1000);
    clock.advance(500);
    h.hold = null;
    g.open();
    await flushTurns();
    clock.advance(999);
    expect(h.starts).toBe(1);
    clock.advance(1);
    expect(h.starts).toBe(2);
    await flushTurns();
    clock.advance(999);
    expect(h.starts).toBe(2);
    await loop.stop();
  });

  it('backs off after failed cycles, doubling up to the ceiling, and returns to the interval after a success', async () => {
    const { h, loop, clock } = harness({ backoff: { baseMs: 1000, maxMs: 4000 } });
    h.fail = true;
    loop.start(10_000, 0);
    for (const delay of [1000, 2000, 4000, 4000]) {
      await flushTurns();
      const before = h.starts;
      clock.advance(delay - 1);
      expect(h.starts).toBe(before);
      clock.advance(1);
      expect(h.starts).toBe(before + 1);
    }
    await flushTurns();
    expect(h.failures).toEqual([1, 2, 3, 4, 5]);
    h.fail = false;
    clock.advance(4000);
    await flushTurns();
    expect(loop.failureCount).toBe(0);
    const starts = h.starts;
    clock.advance(9_999);
    expect(h.starts).toBe(starts);
    clock.advance(1);
    expect(h.starts).toBe(starts + 1);
    await loop.stop();
  });

  it('retries a failed cycle after the interval when there is no backoff', async () => {
    const { h, loop, clock } = harness();
    h.fail = true;
    loop.start(1000, 0);
    await flushTurns();
    clock.advance(999);
    expect(h.starts).toBe(1);
    clock.advance(1);
    expect(h.starts).toBe(2);
    await loop.stop();
  });

  it('runOnce runs a cycle now and gives its result; callers during a cycle share the next one', async () => {
    const { h, loop } = harness();
    expect(await loop.runOnce()).toBe(1);
    const g = gate();
    h.hold = g.opened;
    const first = loop.runOnce();
    const second = loop.runOnce();
    const third = loop.runOnce();
    expect(second).toBe(third);
    expect(h.starts).toBe(2);
    h.hold = null;
    g.open();
    expect(await first).toBe(2);
    expect(await second).toBe(3);
    expect(h.starts).toBe(3);
  });

  it('runOnce rejects with the cycle error and counts it as a failure', async () => {
    const { h, loop } = harness();
    h.fail = true;
    await expect(loop.runOnce()).rejects.toThrow('cycle 1 failed');
    expect(loop.failureCount).toBe(1);
    expect(h.failures).toEqual([]); // its caller handles it
  });

  it('stop resolves only after the cycle in flight has ended', async () => {
    const { h, loop, clock } = harness();
    const g = gate();
    h.hold = g.opened;
    loop.start(1000);
    clock.advance(1000);
    expect(h.starts).toBe(1);
    const stopped = loop.stop();
    expect(await isSettled(stopped)).toBe(false);
    g.open();
    await stopped;
    expect(h.ends).toBe(1);
  });

  it('starts no cycle after stop: not on the interval, a kick, a pending kick, start or runOnce', async () => {
    const { h, loop, clock } = harness({ debounceMs: 50, kickBeforeStart: true });
    loop.start(1000);
    loop.kick();
    await loop.stop();
    clock.advance(60_000);
    loop.kick();
    loop.start(1000, 0);
    clock.advance(60_000);
    await expect(loop.runOnce()).rejects.toBeInstanceOf(LoopStoppedError);
    await flushTurns();
    expect(h.starts).toBe(0);
  });

  it('cancels the cycle runOnce callers wait for behind the one in flight when stopped', async () => {
    const { h, loop } = harness();
    const g = gate();
    h.hold = g.opened;
    const inFlight = loop.runOnce();
    const queued = loop.runOnce();
    const stopped = loop.stop();
    await expect(queued).rejects.toBeInstanceOf(LoopStoppedError);
    g.open();
    expect(await inFlight).toBe(1);
    await stopped;
    expect(h.starts).toBe(1);
  });

  it('does not stop over a kick that came during the cycle in flight', async () => {
    const { h, loop, clock } = harness();
    const g = gate();
    h.hold = g.opened;
    loop.start(1000);
    clock.advance(1000);
    loop.kick();
    const stopped = loop.stop();
    g.open();
    await stopped;
    clock.advance(60_000);
    await flushTurns();
    expect(h.starts).toBe(1);
  });
});
