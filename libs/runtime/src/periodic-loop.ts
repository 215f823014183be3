import type { Clock } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';

export interface PeriodicLoopOptions<T> {
  /** Names the loop in logs. */
  name: string;
  clock: Clock;
  log: Logger;
  /**
   * One cycle. A rejection (or a throw) is a failed cycle: logged (or given to
   * onFailure) and retried. A cycle that returns no promise ends at once.
   */
  run: () => T | Promise<T>;
  /** How long `kick()` waits before its cycle, so that a burst of kicks costs one cycle. Default 0. */
  debounceMs?: number;
  /**
   * Leading-edge kicks: a kick that finds the loop idle, with no cycle ended
   * in the last `debounceMs`, runs its cycle at once (on the next timer turn)
   * instead of after `debounceMs`; the rest of the burst still costs one more
   * cycle, `debounceMs` after that one ended. So the first change is acted on
   * without waiting, and cycles still come at most once per `debounceMs` plus
   * the cycle's own time (docs/loops.md). Default false.
   */
  leading?: boolean;
  /**
   * After a failed cycle the next one comes after `baseMs`, doubling with each
   * further failure up to `maxMs`, instead of after the interval; a success
   * ends it. Without it a failed cycle is retried after the interval.
   */
  backoff?: { baseMs: number; maxMs: number };
  /** Whether `kick()` runs a cycle before `start()` (a part driven by kicks and runOnce only). Default false. */
  kickBeforeStart?: boolean;
  /** Replaces the default error log of a failed cycle (not of a `runOnce()` call: its caller gets the error). */
  onFailure?: (err: unknown, failures: number) => void;
}

/** `runOnce()` after `stop()`, or a cycle it asked for that stop() cancelled: no cycle starts after stop. */
export class LoopStoppedError extends Error {
  constructor(name: string) {
    super(`${name} is stopped`);
    this.name = 'LoopStoppedError';
  }
}

interface Waiter<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (err: unknown) => void;
}

/**
 * The one periodic loop of every part (docs/loops.md). Runs `run` on the
 * injected clock, never two cycles at once:
 * - `start(everyMs, firstAfterMs)`: the first cycle after `firstAfterMs`
 *   (0: at once, within start), then each `everyMs` after the previous cycle
 *   ended, whatever started it;
 * - `kick()`: a cycle `debounceMs` after the first of a burst of kicks (with
 *   `leading`, at once when no cycle ended in the last `debounceMs`); kicks
 *   during a cycle ask for one more, `debounceMs` after it ended;
 * - `runOnce()`: a cycle now, or right after the one in flight; callers that
 *   come during one cycle share the next, and get its result or error;
 * - `stop()`: no cycle starts after it; resolves once the cycle in flight ended.
 * No timer exists before `start()` or `kick()` (no work at construction).
 */
export class PeriodicLoop<T = unknown> {
  private state: 'idle' | 'started' | 'stopped' = 'idle';
  private everyMs = 0;
  private tickTimer: unknown;
  private kickTimer: unknown;
  private inFlight: Promise<void> | null = null;
  /** A cycle asked for (kick) while one was running. */
  private again = false;
  /** Callers of runOnce waiting for the cycle after the one in flight. */
  private queued: Waiter<T> | null = null;
  private failures = 0;
  /** When the last cycle ended (clock ms), for leading-edge kicks. */
  private lastEndedAt: number | null = null;

  constructor(private readonly opts: PeriodicLoopOptions<T>) {}

  /** Consecutive failed cycles (0 after a success). */
  get failureCount(): number {
    return this.failures;
  }

  /** Whether a cycle is running now. */
  get busy(): boolean {
    return this.inFlight !== null;
  }

  get stopped(): boolean {
    return this.state === 'stopped';
  }

  start(everyMs: number, firstAfterMs = everyMs): void {
    if (this.state !== 'idle') return;
    this.state = 'started';
    this.everyMs = everyMs;
    if (firstAfterMs > 0) this.arm('tick', firstAfterMs);
    else if (this.inFlight) this.again = true;
    else this.cycle(null);
  }

  kick(): void {
    if (this.state === 'stopped' || (this.state === 'idle' && !this.opts.kickBeforeStart)) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    if (this.kickTimer !== undefined) return;
    this.arm('kick', this.kickDelay());
  }

  /** Trailing: `debounceMs`. Leading: what is left of `debounceMs` since the last cycle ended (0 when it is past). */
  private kickDelay(): number {
    const debounceMs = this.opts.debounceMs ?? 0;
    if (!this.opts.leading) return debounceMs;
    if (this.lastEndedAt === null) return 0;
    return Math.max(0, Math.min(debounceMs, this.lastEndedAt + debounceMs - this.opts.clock.now().getTime()));
  }

  runOnce(): Promise<T> {
    if (this.state === 'stopped') return Promise.reject(new LoopStoppedError(this.opts.name));
    if (this.inFlight) {
      this.queued ??= deferred<T>();
      return this.queued.promise;
    }
    const waiter = deferred<T>();
    this.cycle(waiter);
    return waiter.promise;
  }

  /** No cycle starts after this; resolves once the cycle in flight (if any) has ended. */
  stop(): Promise<void> {
    this.state = 'stopped';
    this.again = false;
    this.clearTimers();
    const queued = this.queued;
    this.queued = null;
    queued?.reject(new LoopStoppedError(this.opts.name));
    return this.idle();
  }

  /** Resolves once no cycle is running. */
  async idle(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  private onTimer(which: 'tick' | 'kick'): void {
    if (which === 'tick') this.tickTimer = undefined;
    else this.kickTimer = undefined;
    if (this.state === 'stopped') return;
    if (this.inFlight) this.again = true;
    else this.cycle(null);
  }

  /** Sets the tick or kick timer, replacing one already set. */
  private arm(which: 'tick' | 'kick', ms: number): void {
    const { clock } = this.opts;
    if (which === 'tick') {
      if (this.tickTimer !== undefined) clock.clearTimeout(this.tickTimer);
      this.tickTimer = clock.setTimeout(() => this.onTimer('tick'), ms);
    } else {
      if (this.kickTimer !== undefined) clock.clearTimeout(this.kickTimer);
      this.kickTimer = clock.setTimeout(() => this.onTimer('kick'), ms);
    }
  }

  private clearTimers(): void {
    if (this.tickTimer !== undefined) this.opts.clock.clearTimeout(this.tickTimer);
    if (this.kickTimer !== undefined) this.opts.clock.clearTimeout(this.kickTimer);
    this.tickTimer = undefined;
    this.kickTimer = undefined;
  }

  /** Starts a cycle now (none is in flight); `waiter` is a runOnce caller, null for a scheduled cycle. */
  private cycle(waiter: Waiter<T> | null): void {
    // A cycle starting now is the one any pending tick or kick asked for.
    this.clearTimers();
    this.again = false;
    let result: T | Promise<T>;
    try {
      result = this.opts.run();
    } catch (err) {
      this.failed(err, waiter);
      return;
    }
    if (!isPromise(result)) {
      // A synchronous cycle ends here, so the next one is timed without waiting for a promise turn.
      this.succeeded(result, waiter);
      return;
    }
    this.inFlight = result.then(
      (value) => this.succeeded(value, waiter),
      (err: unknown) => this.failed(err, waiter),
    );
  }

  private succeeded(value: T, waiter: Waiter<T> | null): void {
    this.failures = 0;
    waiter?.resolve(value);
    this.ended();
  }

  private failed(err: unknown, waiter: Waiter<T> | null): void {
    this.failures += 1;
    if (waiter) waiter.reject(err);
    else this.reportFailure(err);
    this.ended();
  }

  private reportFailure(err: unknown): void {
    if (this.opts.onFailure) this.opts.onFailure(err, this.failures);
    else this.opts.log.error({ err, failures: this.failures }, `${this.opts.name} cycle failed; retrying`);
  }

  private ended(): void {
    this.inFlight = null;
    this.lastEndedAt = this.opts.clock.now().getTime();
    if (this.state === 'stopped') return;
    const queued = this.queued;
    if (queued) {
      this.queued = null;
      this.cycle(queued);
      return;
    }
    if (this.again) {
      this.again = false;
      this.arm('kick', this.opts.debounceMs ?? 0);
    }
    if (this.state === 'started') this.arm('tick', this.nextDelay());
  }

  private nextDelay(): number {
    const b = this.opts.backoff;
    if (!b || this.failures === 0) return this.everyMs;
    return Math.min(b.maxMs, b.baseMs * 2 ** Math.min(this.failures - 1, 30));
  }
}

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

function deferred<T>(): Waiter<T> {
  let resolve!: (v: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}
