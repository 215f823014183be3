import type { Clock } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { compressOldDays, type CompressReport } from './retention';

export interface RetentionLoopDeps {
  root: string;
  clock: Clock;
  log: Logger;
  /** HOMELAB_RETENTION_COMPRESS_DAYS. */
  olderThanDays: number;
}

/**
 * Compresses old days of the event log periodically (see compressOldDays).
 * Runs never overlap; a failed run is logged and the next one retries.
 */
export class RetentionLoop {
  private chain: Promise<unknown> = Promise.resolve();
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  private timer: unknown;

  constructor(private readonly deps: RetentionLoopDeps) {}

  /** One pass at the clock's current time; a call during a run waits for it. */
  runOnce(): Promise<CompressReport> {
    const { root, clock, log, olderThanDays } = this.deps;
    const run = this.chain.then(() => compressOldDays(root, { olderThanDays, now: clock.now(), log }));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs after `firstDelayMs` (default: a minute, or the interval if shorter,
   * so a starting hub is not slowed down), then every `intervalMs` after the
   * previous run ended.
   */
  start(intervalMs: number, firstDelayMs = Math.min(intervalMs, 60_000)): void {
    if (this.state === 'running') return;
    this.state = 'running';
    const schedule = (ms: number) => {
      this.timer = this.deps.clock.setTimeout(() => {
        void this.safeRun().then(() => {
          if (this.state === 'running') schedule(intervalMs);
        });
      }, ms);
    };
    schedule(firstDelayMs);
  }

  /** Stops scheduling; resolves once a run in progress has ended. */
  stop(): Promise<void> {
    this.state = 'stopped';
    this.deps.clock.clearTimeout(this.timer);
    return this.chain.then(() => undefined);
  }

  private async safeRun(): Promise<void> {
    try {
      const r = await this.runOnce();
      if (r.compressed.length > 0 || r.failed.length > 0) {
        this.deps.log.info({ compressed: r.compressed.length, failed: r.failed.length, bytesIn: r.bytesIn, bytesOut: r.bytesOut }, 'event log retention pass');
      }
    } catch (err) {
      this.deps.log.error({ err }, 'event log retention failed; retrying on the next run');
    }
  }
}
