import type { Clock } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { PeriodicLoop } from '@homelab/runtime';
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
  private readonly loop: PeriodicLoop<CompressReport>;

  constructor(private readonly deps: RetentionLoopDeps) {
    const { root, clock, log, olderThanDays } = deps;
    this.loop = new PeriodicLoop({
      name: 'event log retention',
      clock,
      log,
      run: async () => this.report(await compressOldDays(root, { olderThanDays, now: clock.now(), log })),
      onFailure: (err) => log.error({ err }, 'event log retention failed; retrying on the next run'),
    });
  }

  /** One pass at the clock's current time; a call during a run waits for it. */
  runOnce(): Promise<CompressReport> {
    return this.loop.runOnce();
  }

  /**
   * Runs after `firstDelayMs` (default: a minute, or the interval if shorter,
   * so a starting hub is not slowed down), then every `intervalMs` after the
   * previous run ended.
   */
  start(intervalMs: number, firstDelayMs = Math.min(intervalMs, 60_000)): void {
    this.loop.start(intervalMs, firstDelayMs);
  }

  /** Stops scheduling; resolves once a run in progress has ended. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  private report(r: CompressReport): CompressReport {
    if (r.compressed.length > 0 || r.failed.length > 0) {
      this.deps.log.info({ compressed: r.compressed.length, failed: r.failed.length, bytesIn: r.bytesIn, bytesOut: r.bytesOut }, 'event log retention pass');
    }
    return r;
  }
}
