/**
 * The hub's time as this agent can know it, without trusting its own wall
 * clock (docs/actions.md, "Deadlines and clock skew"). Each command carries
 * the hub's clock when it was first sent (`issuedAt`); at receipt the hub's
 * time was at least that, so `stamp + (monotonic now − monotonic at receipt)`
 * is a lower bound of the hub's time now. The largest bound is kept: the
 * monotonic clock never jumps when the wall clock is stepped (NTP, an
 * operator), so a fixed or broken wall clock changes nothing here. A bound
 * older than `refreshMs` gives way to a fresh one, so the slow drift of two
 * oscillators cannot add up over months.
 */
export class HubClock {
  /** Largest `hubStamp − monotonic at receipt` seen, and when (monotonic). */
  private base: { diff: number; at: number } | null = null;

  constructor(
    private readonly monotonic: () => number = () => performance.now(),
    private readonly refreshMs = HUB_CLOCK_REFRESH_MS,
  ) {}

  /** Records a hub stamp (ms since epoch) received just now; a non-number is ignored. */
  observe(hubMs: number): void {
    if (!Number.isFinite(hubMs)) return;
    const at = this.monotonic();
    const diff = hubMs - at;
    if (this.base === null || diff > this.base.diff || at - this.base.at > this.refreshMs) this.base = { diff, at };
  }

  /**
   * The hub's time now in whole ms since epoch (the monotonic clock has
   * fractions, and timers such as execFile's `timeout` take only integers),
   * or null before the first stamp.
   */
  now(): number | null {
    return this.base === null ? null : Math.floor(this.base.diff + this.monotonic());
  }

  /** How far `wallMs` (this agent's clock now) is ahead of the hub's time; null before the first stamp. */
  offsetMs(wallMs: number): number | null {
    const hub = this.now();
    return hub === null ? null : Math.round(wallMs - hub);
  }
}

export const HUB_CLOCK_REFRESH_MS = 60 * 60_000;
