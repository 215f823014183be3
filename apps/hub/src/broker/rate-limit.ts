/**
 * A token bucket: `ratePerSec` tokens a second, at most `burst` saved up. One
 * per node in the embedded broker (authorizePublish), so a node that floods —
 * broken or taken over — is slowed down instead of filling the hub's disk and
 * starving the other nodes. An agent draining its outbox after an outage stays
 * inside the defaults (see HubConfig), or is merely slowed.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /**
   * Takes one token, borrowing from the future when the bucket is empty.
   * Returns how long (ms) the caller must wait before its message may pass —
   * 0 when a token was there — or null when the debt would exceed one more
   * burst (the client is far beyond its rate: cut it off).
   */
  reserve(now: number): number | null {
    const elapsed = Math.max(0, now - this.last) / 1000;
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.ratePerSec);
    if (this.tokens - 1 < -this.burst) return null;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.ratePerSec) * 1000);
  }
}
