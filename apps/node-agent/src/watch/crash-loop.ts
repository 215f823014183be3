import type { ContainerObservation } from '@homelab/contracts';

/** Restarts by Docker's restart policy within `windowMs` that make a crash loop. */
export interface CrashLoopRule {
  restarts: number;
  windowMs: number;
}

export const DEFAULT_CRASH_LOOP: CrashLoopRule = { restarts: 3, windowMs: 5 * 60_000 };

interface Track {
  restartCount: number;
  /** Times (ms) at which new restarts were first seen, oldest first. */
  seen: number[];
}

/**
 * Notices restart bursts: Docker's `RestartCount` (restarts by the restart
 * policy; a `docker restart` or our container_restart does not count) rising
 * `restarts` times within `windowMs`. A container caught between two
 * restarts looks `running` or `exited`, so the state alone misses a loop.
 * Pure apart from its memory: the caller passes the time.
 */
export class CrashLoopDetector {
  private readonly tracks = new Map<string, Track>();

  constructor(private readonly rule: CrashLoopRule = DEFAULT_CRASH_LOOP) {}

  /** Records one scan's observations; returns the names of containers in a crash loop, with their recent restarts. */
  observe(observations: readonly ContainerObservation[], nowMs: number): Map<string, number> {
    const looping = new Map<string, number>();
    for (const o of observations) {
      if (o.restartCount === undefined) continue;
      let t = this.tracks.get(o.name);
      if (!t || o.restartCount < t.restartCount) {
        // First sight, or the container was recreated (count back to 0): no history to judge.
        t = { restartCount: o.restartCount, seen: [] };
        this.tracks.set(o.name, t);
      }
      const added = Math.min(o.restartCount - t.restartCount, this.rule.restarts);
      for (let i = 0; i < added; i++) t.seen.push(nowMs);
      t.restartCount = o.restartCount;
      while (t.seen.length && t.seen[0]! <= nowMs - this.rule.windowMs) t.seen.shift();
      if (t.seen.length > this.rule.restarts) t.seen.splice(0, t.seen.length - this.rule.restarts);
      if (t.seen.length >= this.rule.restarts) looping.set(o.name, t.seen.length);
    }
    return looping;
  }

  /** Forgets containers no longer observed (so the map never outgrows the desired containers). */
  retain(names: ReadonlySet<string>): void {
    for (const name of this.tracks.keys()) if (!names.has(name)) this.tracks.delete(name);
  }
}
