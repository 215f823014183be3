import { emptyWorld, type Clock, type World } from '@homelab/contracts';
import type { EventLogReader } from '@homelab/event-log';
import type { Logger } from '@homelab/logging';
import { PeriodicLoop } from '@homelab/runtime';
import { catchUp, type Positions } from './catch-up';
import { aliasesHash, behindCheckpoint, checkpointOf, loadCheckpoint, writeCheckpoint, type ObserverCheckpoint } from './checkpoint';
import { loadFold, writeFoldAndCheckpoint } from './fold-state';
import { DEFAULT_NODE_TTL_MS, DEFAULT_SERVICE_TTL_MS, prune, type DesiredView } from './prune';
import { readRenderedWorld, renderWorld, writeRenderedWorld, type RenderedWorld } from './world-files';

export { replay, type ReplayOptions, type ReplayResult } from './replay';

/**
 * After writing a view, scheduled runs wait this many times what the writing
 * cost before writing the next (they still fold at once): the view work grows
 * with the fleet, not with the events, so at a thousand nodes it would
 * otherwise run back to back (docs/observer-runtime.md, "View cadence").
 */
export const VIEW_COOLDOWN_FACTOR = 3;
/** The longest a scheduled run defers the view, however costly writing it was. */
export const VIEW_COOLDOWN_MAX_MS = 5_000;

export interface ObserverDeps {
  root: string;
  reader: EventLogReader;
  clock: Clock;
  log: Logger;
  aliases: Record<string, string>;
  /** Called after a run that changed the world view, once the world files are written. */
  onChange?: (world: World) => void;
  /**
   * Called as soon as a run has a new view, before the world and state files
   * are written (each an fsync): for parts that read `world()` from memory
   * and need not wait for the files, such as the supervisor. Nothing is lost
   * if the hub dies before the files: they are rebuilt from the event log,
   * and the decisions with them (docs/observer-runtime.md).
   */
  onViewChanged?: (world: World) => void;
  /** How long `kick()` waits, so that a burst of commits costs one run. */
  kickDelayMs?: number;
  /** Ghost pruning of the view (HOMELAB_SERVICE_TTL_MS, HOMELAB_NODE_TTL_MS); see prune.ts. */
  ttl?: { serviceTtlMs: number; nodeTtlMs: number };
  /**
   * Desired state in force (the supervisor's): what it lists is never pruned.
   * `null` while it is not loaded yet: nothing is pruned then, so a desired
   * service never vanishes from the view before the supervisor knows it is
   * desired (it would look missing). Without this dependency, nothing counts
   * as desired (as in `replay()` without `desired`).
   */
  desired?: () => DesiredView | null;
}

/**
 * Folds the event log into world state. Each run reads every stream from its
 * checkpointed position, writes the pruned view (world files), then the fold
 * and the checkpoint together (state/): after a crash between the fold and
 * the checkpoint the re-read events are skipped by seq (the fold records
 * what it contains), so each event is applied exactly once.
 */
export class Observer {
  /** Everything folded, ghosts included; resumed from state/observer_fold.json. */
  private fold: World = emptyWorld();
  /** prune(fold): what world() serves and the world files hold. */
  private view: World = emptyWorld();
  private positions: Positions = new Map();
  /** The state files lag the in-memory fold (a write failed, or init started from empty). */
  private dirty = false;
  /** Positions moved since the checkpoint was last written (runs that deferred writing it). */
  private moved = false;
  /** The view must be recomputed and written. */
  private viewStale = true;
  private viewDesired: string | null = null;
  /** Bytes of the world files on disk, as far as this process knows. */
  private written: RenderedWorld | null = null;
  private notify = false;
  /** Runs started so far, and the last one `runOnce()` promised a written view to. */
  private runsStarted = 0;
  private forceViewThrough = 0;
  /** Scheduled runs before this time (ms) fold without writing the view; see VIEW_COOLDOWN_FACTOR. */
  private nextViewAt = 0;
  private cooldownTimer: unknown;
  private readonly loop: PeriodicLoop<{ applied: number }>;

  constructor(private readonly deps: ObserverDeps) {
    this.loop = new PeriodicLoop({
      name: 'observer',
      clock: deps.clock,
      log: deps.log,
      run: () => this.run(),
      debounceMs: deps.kickDelayMs ?? 10,
      // The first commit after a quiet spell is folded at once; a burst still costs one more run (docs/loops.md).
      leading: true,
      // Ingest kicks the observer as soon as the link is up, before the loops start (docs/hub-lifecycle.md).
      kickBeforeStart: true,
      onFailure: (err) => deps.log.error({ err }, 'observer run failed; retrying on the next run'),
    });
  }

  /** The live view (ghosts pruned); read-only for callers. Replaced, not mutated, by runs. */
  world(): World {
    return this.view;
  }

  /** The fold with its ghosts (e.g. the last session of a node pruned from the view); read-only, mutated by runs. */
  foldedWorld(): World {
    return this.fold;
  }

  async init(): Promise<void> {
    const { root, log, aliases } = this.deps;
    const [cp, fold, written] = await Promise.all([loadCheckpoint(root, log), loadFold(root, log), readRenderedWorld(root)]);
    this.written = written;
    this.viewStale = true;
    const why = replayReason(cp, fold, aliasesHash(aliases));
    if (why) {
      log.info({ reason: why }, 'observer starts from an empty world and replays the whole event log');
      this.fold = emptyWorld();
      this.positions = new Map();
      this.dirty = true;
    } else {
      this.fold = fold!;
      this.positions = new Map(Object.entries(cp!.streams).map(([s, p]) => [s, { file: p.file, offset: p.offset }]));
    }
    // Not the desired provider yet: at init the supervisor may not exist (or know anything).
    this.view = this.prunedView(this.deps.desired ? null : undefined);
  }

  /**
   * Folds what was appended since the last run and writes the view. Runs
   * never overlap: a call during a run waits for it.
   */
  runOnce(): Promise<{ applied: number }> {
    this.forceViewThrough = this.runsStarted + 1;
    return this.loop.runOnce();
  }

  private async run(): Promise<{ applied: number }> {
    const { root, reader, aliases, clock } = this.deps;
    const forced = ++this.runsStarted <= this.forceViewThrough;
    const res = await catchUp(reader, this.fold, this.positions, { aliases }).catch((err: unknown) => {
      // Whatever was folded before the failure is in memory; make the next run persist it.
      this.dirty = true;
      this.viewStale = true;
      throw err;
    });
    if (res.applied > 0) {
      this.dirty = true;
      this.viewStale = true;
    }
    if (res.moved > 0) this.moved = true;
    const started = clock.now().getTime();
    if (!forced && started < this.nextViewAt) {
      this.deferView(this.nextViewAt - started);
      return { applied: res.applied };
    }
    const desired = this.deps.desired?.();
    const desiredKey = keyOfDesired(desired);
    if (this.viewStale || desiredKey !== this.viewDesired) {
      this.viewStale = true; // until the files hold it
      this.view = this.prunedView(desired);
      this.viewDesired = desiredKey;
      const rendered = renderWorld(this.view);
      if (!this.written || rendered.services !== this.written.services || rendered.nodes !== this.written.nodes) {
        this.deps.onViewChanged?.(this.view);
        await writeRenderedWorld(root, rendered);
        this.written = rendered;
        this.notify = true;
      }
      this.viewStale = false;
    }
    if (this.dirty) await writeFoldAndCheckpoint(root, this.fold, checkpointOf(this.positions, this.fold, aliases));
    else if (this.moved) await writeCheckpoint(root, checkpointOf(this.positions, this.fold, aliases));
    this.dirty = false;
    this.moved = false;
    if (this.notify) {
      this.notify = false;
      this.deps.onChange?.(this.view);
    }
    const ended = clock.now().getTime();
    this.nextViewAt = ended + Math.min((ended - started) * VIEW_COOLDOWN_FACTOR, VIEW_COOLDOWN_MAX_MS);
    return { applied: res.applied };
  }

  /** A run once the cooldown is over, writing what was folded meanwhile. */
  private deferView(ms: number): void {
    if (this.cooldownTimer !== undefined || this.loop.stopped) return;
    this.cooldownTimer = this.deps.clock.setTimeout(() => {
      this.cooldownTimer = undefined;
      this.kick();
    }, ms);
  }

  private prunedView(desired: DesiredView | null | undefined): World {
    const ttl =
      desired === null ? { serviceTtlMs: 0, nodeTtlMs: 0 } : (this.deps.ttl ?? { serviceTtlMs: DEFAULT_SERVICE_TTL_MS, nodeTtlMs: DEFAULT_NODE_TTL_MS });
    return prune(this.fold, { ...ttl, desired: desired ?? undefined }).world;
  }

  /** Schedules a run soon; kicks before it starts are coalesced into it. */
  kick(): void {
    this.loop.kick();
  }

  /** Runs every `intervalMs` after the previous run ended (so never overlapping). */
  start(intervalMs: number): void {
    this.loop.start(intervalMs);
  }

  /** Stops scheduling; resolves once a run in progress has ended. */
  stop(): Promise<void> {
    if (this.cooldownTimer !== undefined) this.deps.clock.clearTimeout(this.cooldownTimer);
    this.cooldownTimer = undefined;
    return this.loop.stop();
  }
}

/** Why the persisted fold cannot be resumed, or null. */
function replayReason(cp: ObserverCheckpoint | null, fold: World | null, aliases: string): string | null {
  if (!cp) return 'no observer checkpoint';
  if (cp.aliases === undefined) return 'the checkpoint does not record the NODE_ALIAS_MAP it was made with (written by an older version)';
  if (cp.aliases !== aliases) return 'NODE_ALIAS_MAP changed since the checkpoint; nodes are folded again under their canonical names';
  if (!fold) return 'no usable observer fold state (state/observer_fold.json)';
  return behindCheckpoint(cp, fold);
}

/** What of the desired state pruning depends on, as a comparable string. */
export function keyOfDesired(desired: DesiredView | null | undefined): string {
  if (desired === undefined) return 'none';
  if (desired === null) return 'unknown';
  return JSON.stringify(
    Object.keys(desired)
      .sort()
      .map((n) => [
        n,
        Object.keys(desired[n]!.services)
          .filter((s) => desired[n]!.services[s]!.monitor !== false)
          .sort(),
      ]),
  );
}
