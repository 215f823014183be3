import fs from 'node:fs/promises';
import type { Clock } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { PeriodicLoop } from '@homelab/runtime';
import { errorMessage } from '../errors';
import type { EventSink } from '../delivery/stamper';

export type DiskLevel = 'ok' | 'warn' | 'high';

/** Percent used at which a mount is `warn` / `high`; it goes back down only `hysteresis` points below. */
export interface DiskThresholds {
  warn: number;
  high: number;
  hysteresis: number;
}

export interface DiskUsage {
  /** Device id: two mounts on one filesystem are reported once. */
  dev: number;
  usedPercent: number;
  freeBytes: number;
}

const RANK: Record<DiskLevel, number> = { ok: 0, warn: 1, high: 2 };

/**
 * Pure: the level of a mount after a reading. Up at once when a threshold is
 * reached; down only once usage is `hysteresis` points below the threshold it
 * crossed, so a disk hovering at 85 % does not flap between warn and ok.
 */
export function nextDiskLevel(prev: DiskLevel | undefined, usedPercent: number, t: DiskThresholds): DiskLevel {
  const raw: DiskLevel = usedPercent >= t.high ? 'high' : usedPercent >= t.warn ? 'warn' : 'ok';
  let held: DiskLevel = prev ?? 'ok';
  if (held === 'high' && usedPercent < t.high - t.hysteresis) held = 'warn';
  if (held === 'warn' && usedPercent < t.warn - t.hysteresis) held = 'ok';
  return RANK[raw] >= RANK[held] ? raw : held;
}

/** `df`'s figure: used / (used + available to unprivileged users). */
export async function statfsUsage(mount: string): Promise<DiskUsage> {
  const [st, s] = await Promise.all([fs.stat(mount), fs.statfs(mount)]);
  const used = (s.blocks - s.bfree) * s.bsize;
  const avail = s.bavail * s.bsize;
  const usedPercent = used + avail > 0 ? Math.round((used / (used + avail)) * 1000) / 10 : 0;
  return { dev: st.dev, usedPercent: Math.min(100, Math.max(0, usedPercent)), freeBytes: Math.max(0, avail) };
}

export interface DiskWatcherDeps {
  /** Mounts to check, resolved at each run (the Docker data-root may become known later). */
  mounts: () => Promise<string[]>;
  usage?: (mount: string) => Promise<DiskUsage>;
  thresholds: DiskThresholds;
  sink: EventSink;
  clock: Clock;
  log: Logger;
  intervalMs: number;
}

/**
 * Checks every mount each `intervalMs` with statfs (a few syscalls, no child
 * process) and reports the first reading of each mount (disk_ok or
 * disk_pressure) and every level change after it.
 */
export class DiskWatcher {
  private readonly levels = new Map<string, DiskLevel>();
  private readonly failing = new Set<string>();
  private readonly loop: PeriodicLoop<void>;

  constructor(private readonly deps: DiskWatcherDeps) {
    this.loop = new PeriodicLoop({ name: 'disk watch', clock: deps.clock, log: deps.log, run: () => this.check() });
  }

  /** Checks now, then every intervalMs after the previous check ended. */
  start(): void {
    this.loop.start(this.deps.intervalMs, 0);
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Current level per mount (for tests and status output). */
  states(): ReadonlyMap<string, DiskLevel> {
    return this.levels;
  }

  /** One check now, or right after the one in progress. */
  runOnce(): Promise<void> {
    return this.loop.runOnce();
  }

  private async check(): Promise<void> {
    const { sink, log, thresholds } = this.deps;
    const usage = this.deps.usage ?? statfsUsage;
    const seenDevs = new Set<number>();
    for (const mount of await this.deps.mounts()) {
      let u: DiskUsage;
      try {
        u = await usage(mount);
        this.failing.delete(mount);
      } catch (err) {
        if (!this.failing.has(mount)) log.warn({ mount, err: errorMessage(err) }, 'cannot read disk usage; retrying each check');
        this.failing.add(mount);
        continue;
      }
      if (seenDevs.has(u.dev)) continue;
      seenDevs.add(u.dev);
      const prev = this.levels.get(mount);
      const level = nextDiskLevel(prev, u.usedPercent, thresholds);
      if (level === prev) continue;
      this.levels.set(mount, level);
      if (level === 'ok') await sink.emit({ type: 'disk_ok', data: { mount, usedPercent: u.usedPercent } });
      else await sink.emit({ type: 'disk_pressure', data: { mount, level, usedPercent: u.usedPercent, freeBytes: u.freeBytes } });
    }
  }
}
