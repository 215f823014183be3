import type { Clock } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';

export interface LoopOptions {
  clock: Clock;
  log: Logger;
  /** One cycle; a rejection is logged and the loop goes on. */
  run: () => Promise<unknown>;
}

/**
 * Schedules `run` every `intervalMs` with the injected clock, never two at once.
 * `kick()` runs it as soon as possible (after the current run, if one is going),
 * so a change is acted on without waiting for the next tick. No timer exists
 * before `start()` (no work at import or construction).
 */
export class PeriodicLoop {
  private timer: unknown;
  private intervalMs = 0;
  private started = false;
  private inFlight: Promise<void> | null = null;
  private again = false;

  constructor(private readonly opts: LoopOptions) {}

  start(intervalMs: number): void {
    if (this.started) return;
    this.started = true;
    this.intervalMs = intervalMs;
    this.schedule(intervalMs);
  }

  /**
   * No cycle starts after this; resolves once the cycle in progress (if any)
   * has ended, so the caller may release what the cycle writes to (the hub's
   * root lock, docs/hub-lifecycle.md).
   */
  stop(): Promise<void> {
    this.started = false;
    this.again = false;
    if (this.timer !== undefined) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    return this.idle();
  }

  kick(): void {
    if (!this.started) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    if (this.timer !== undefined) this.opts.clock.clearTimeout(this.timer);
    this.schedule(0);
  }

  /** Resolves once the run in progress (if any) has finished. */
  async idle(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  private schedule(ms: number): void {
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      this.tick();
    }, ms);
  }

  private tick(): void {
    this.inFlight = this.opts
      .run()
      .then(
        () => undefined,
        (err: unknown) => this.opts.log.error({ err }, 'loop cycle failed; retrying on the next tick'),
      )
      .finally(() => {
        this.inFlight = null;
        if (!this.started) return;
        const soon = this.again;
        this.again = false;
        this.schedule(soon ? 0 : this.intervalMs);
      });
  }
}
