import { CLOCK_WINDOW_MS, CLOCK_WINDOWS, type NodeClock } from '@homelab/contracts';

/**
 * Adds one event's sample to the node's clock estimate (see NodeClock and
 * docs/observer-runtime.md, "Clock offset"): `rxMs` is the hub's receive time, `tsMs`
 * the node's stamp. Pure; mutates and returns `clock` (the fold owns it), or
 * returns a new one when there is none yet; a sample that is not a number of
 * ms (an unreadable time) changes nothing.
 *
 * The window is chosen by the hub's receive time. A window earlier than the
 * newest (the hub's clock stepped back) counts as the newest, so windows stay
 * in order. Windows are kept by count, not by age: after a long silence the
 * windows from before it still hold the estimate while the backlog arrives.
 */
export function observeClock(clock: NodeClock | undefined, rxMs: number, tsMs: number): NodeClock | undefined {
  const lag = rxMs - tsMs;
  if (!Number.isSafeInteger(lag)) return clock;
  const start = Math.floor(rxMs / CLOCK_WINDOW_MS) * CLOCK_WINDOW_MS;
  if (!clock) return { offsetMs: negate(lag), windows: [[start, lag]] };
  const windows = clock.windows;
  const last = windows[windows.length - 1];
  if (last && start <= last[0]) {
    if (lag >= last[1]) return clock;
    last[1] = lag;
  } else {
    windows.push([start, lag]);
    if (windows.length > CLOCK_WINDOWS) windows.shift();
  }
  let min = lag;
  for (const w of windows) if (w[1] < min) min = w[1];
  clock.offsetMs = negate(min);
  return clock;
}

/** `-x` without a `-0`, which would compare unequal to the 0 a replay reads back from JSON. */
const negate = (x: number): number => (x === 0 ? 0 : -x);

/**
 * A node's stamp in the hub's time: `ts` minus the node's offset. The event
 * that was just observed is among the samples, so the result is never later
 * than its receive time. Returns `ts` itself when there is nothing to correct.
 */
export function hubTimeOf(clock: NodeClock | undefined, ts: string): string {
  if (!clock || clock.offsetMs === 0) return ts;
  return new Date(Date.parse(ts) - clock.offsetMs).toISOString();
}
