import { durationMs, probeName, type Clock, type ProbeSpec } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { PeriodicLoop } from '@homelab/runtime';
import type { ProbeOutcome, ProbeRunner } from './probes';

export const DEFAULT_PROBE_INTERVAL_MS = 10_000;
export const DEFAULT_PROBE_TIMEOUT_MS = 2_000;

/** The probes of one monitored service, as in its services.yaml entry. */
export interface ProbeTarget {
  service: string;
  probes: readonly ProbeSpec[];
}

/** A probe that decided a service is unhealthy. */
export interface ProbeFailure {
  probe: string;
  type: ProbeSpec['type'];
  detail: string;
}

interface Entry {
  service: string;
  name: string;
  spec: ProbeSpec;
  signature: string;
  /** Consecutive failed runs; reset by a success. */
  failures: number;
  ran: boolean;
  detail: string;
  /** Runs the probe every interval, timed from the end of the previous run. */
  loop: PeriodicLoop<void>;
  removed: boolean;
}

export interface ProbeSchedulerDeps {
  run: ProbeRunner;
  clock: Clock;
  log: Logger;
  /** Called when a service's probe verdict changes (first result, failing, passing again). */
  onChange: (service: string) => void;
}

/** Pure: does this run's outcome change whether the probe counts as failing? Returns the new failure count. */
export function nextFailures(failures: number, outcome: ProbeOutcome): number {
  return outcome.ok ? 0 : Math.min(failures + 1, 1000);
}

export const isFailing = (spec: ProbeSpec, failures: number): boolean => failures >= (spec.failures ?? 1);

/**
 * Runs each declared probe on its own interval (timed from the end of the
 * previous run, so a slow target never stacks runs) and keeps the latest
 * verdict. `sync()` follows desired-state changes: new probes start at once,
 * removed ones stop, changed ones restart. The watcher asks `failing()` and
 * `settled()` at each scan and gets `onChange` to scan again at once.
 */
export class ProbeScheduler {
  private readonly entries = new Map<string, Entry>();
  private stopped = false;

  constructor(private readonly deps: ProbeSchedulerDeps) {}

  sync(targets: readonly ProbeTarget[]): void {
    if (this.stopped) return;
    const wanted = new Map<string, { service: string; name: string; spec: ProbeSpec }>();
    for (const t of targets)
      t.probes.forEach((spec, i) => wanted.set(`${t.service}\0${probeName(spec, i)}`, { service: t.service, name: probeName(spec, i), spec }));
    for (const [key, e] of this.entries) {
      const w = wanted.get(key);
      if (!w || JSON.stringify(w.spec) !== e.signature) void this.remove(key, e);
    }
    for (const [key, w] of wanted) {
      if (this.entries.has(key)) continue;
      const loop = new PeriodicLoop({ name: `probe ${w.service}/${w.name}`, clock: this.deps.clock, log: this.deps.log, run: () => this.runEntry(e) });
      const e: Entry = { ...w, signature: JSON.stringify(w.spec), failures: 0, ran: false, detail: '', loop, removed: false };
      this.entries.set(key, e);
      e.loop.start(w.spec.interval ? durationMs(w.spec.interval) : DEFAULT_PROBE_INTERVAL_MS, 0);
    }
  }

  /** The first failing probe of the service (in services.yaml order), if any. */
  failing(service: string): ProbeFailure | undefined {
    for (const e of this.entries.values()) {
      if (e.service === service && isFailing(e.spec, e.failures)) return { probe: e.name, type: e.spec.type, detail: e.detail };
    }
    return undefined;
  }

  /** False while some probe of the service has not finished its first run (no verdict yet). */
  settled(service: string): boolean {
    for (const e of this.entries.values()) if (e.service === service && !e.ran) return false;
    return true;
  }

  /** Runs every probe now and waits for all of them (tests; the loops keep their own pace). */
  async runOnce(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => (e.loop.busy ? e.loop.idle() : e.loop.runOnce())));
  }

  /** Stops every probe; resolves once the runs in progress have ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.entries].map(([key, e]) => this.remove(key, e)));
  }

  private remove(key: string, e: Entry): Promise<void> {
    e.removed = true;
    this.entries.delete(key);
    if (e.ran && isFailing(e.spec, e.failures)) this.deps.onChange(e.service);
    return e.loop.stop();
  }

  /** One run of a probe; never rejects (a runner error is a failed probe). */
  private runEntry(e: Entry): Promise<void> {
    const timeout = e.spec.timeout ? durationMs(e.spec.timeout) : DEFAULT_PROBE_TIMEOUT_MS;
    return this.deps
      .run(e.spec, timeout)
      .catch((err: unknown): ProbeOutcome => ({ ok: false, detail: String(err) }))
      .then((outcome) => {
        if (e.removed) return;
        const before = e.ran ? isFailing(e.spec, e.failures) : null;
        e.failures = nextFailures(e.failures, outcome);
        if (!outcome.ok) e.detail = `${e.name}: ${outcome.detail ?? 'failed'}`.slice(0, 500);
        e.ran = true;
        const after = isFailing(e.spec, e.failures);
        if (before !== after) {
          if (before !== null)
            this.deps.log.info({ service: e.service, probe: e.name, failing: after, detail: after ? e.detail : undefined }, 'probe verdict changed');
          this.deps.onChange(e.service);
        }
      });
  }
}
