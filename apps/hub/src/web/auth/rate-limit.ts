/**
 * Failed-login limiter: at most `max` failures per key inside `windowMs`
 * (keys: the client address and the user name, so neither one address nor a
 * botnet against one account gets unlimited guesses). A success clears the key.
 *
 * Bounded by `capacity` keys as an LRU: a flood of failures under new keys
 * evicts the keys that failed longest ago, but never a locked key (one at
 * `max`) while an unlocked one remains, so filling the map cannot lift
 * admin's lockout (docs/ui-api.md "Login rate limit").
 */
export class LoginLimiter {
  /** Failure times per key; the Map's order is the LRU order (least recently failed first). */
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly max = 5,
    private readonly windowMs = 15 * 60_000,
    private readonly now: () => number = Date.now,
    private readonly capacity = 50_000,
  ) {}

  /** Seconds until another attempt is allowed for any of the keys, or 0 when allowed now. */
  retryAfter(keys: string[]): number {
    const now = this.now();
    let wait = 0;
    for (const key of keys) {
      const recent = this.recent(key, now);
      if (recent.length >= this.max) wait = Math.max(wait, Math.ceil((recent[0]! + this.windowMs - now) / 1000));
    }
    return wait;
  }

  fail(keys: string[]): void {
    const now = this.now();
    for (const key of keys) {
      const times = [...this.recent(key, now), now];
      this.failures.delete(key); // re-inserted last: the most recently used
      this.failures.set(key, times);
    }
    this.evict(now);
  }

  succeed(keys: string[]): void {
    for (const key of keys) this.failures.delete(key);
  }

  get size(): number {
    return this.failures.size;
  }

  /**
   * Oldest unlocked keys go first (expired ones count as unlocked). Only when
   * every key is locked does the least recently failed locked key go. The scan
   * passes over locked keys, at most `capacity` of them, once per failed login,
   * which costs far less than the login's password hash.
   */
  private evict(now: number): void {
    if (this.failures.size <= this.capacity) return;
    for (const [key, times] of this.failures) {
      if (this.failures.size <= this.capacity) return;
      if (this.count(times, now) < this.max) this.failures.delete(key);
    }
    for (const key of this.failures.keys()) {
      if (this.failures.size <= this.capacity) return;
      this.failures.delete(key);
    }
  }

  private count(times: number[], now: number): number {
    let n = 0;
    for (const t of times) if (t > now - this.windowMs) n++;
    return n;
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => t > now - this.windowMs);
  }
}
