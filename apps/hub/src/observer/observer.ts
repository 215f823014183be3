import { emptyWorld, type Clock, type World } from '@homelab/contracts';
import type { EventLogReader } from '@homelab/event-log';
import type { Logger } from '@homelab/logging';
import { catchUp, type Positions } from './catch-up';
import { checkpointOf, loadCheckpoint, writeCheckpoint, type ObserverCheckpoint } from './checkpoint';
import { loadWorld, writeWorld } from './world-files';

export { replay, type ReplayOptions, type ReplayResult } from './replay';

export interface ObserverDeps {
  root: string;
  reader: EventLogReader;
  clock: Clock;
  log: Logger;
  aliases: Record<string, string>;
  /** Called after a run that changed the world, once the world files are written. */
  onChange?: (world: World) => void;
  /** How long `kick()` waits, so that a burst of commits costs one run. */
  kickDelayMs?: number;
}

/**
 * Folds the event log into world state. Each run reads every stream from its
 * checkpointed position, then writes the world files and only then the
 * checkpoint: after a crash between the two, the re-read events are skipped
 * by seq (the world files record what they contain), so each event is
 * applied exactly once.
 */
export class Observer {
  private current: World = emptyWorld();
  private positions: Positions = new Map();
  /** The files lag the in-memory world (a write failed, or init started from empty). */
  private dirty = false;
  private notify = false;
  private chain: Promise<unknown> = Promise.resolve();
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  private timer: unknown;
  private kickTimer: unknown;

  constructor(private readonly deps: ObserverDeps) {}

  /** The live world; read-only for callers (runs mutate it in place). */
  world(): World {
    return this.current;
  }

  async init(): Promise<void> {
    const { root, log } = this.deps;
    const [cp, world] = await Promise.all([loadCheckpoint(root, log), loadWorld(root, log)]);
    const why = !cp ? 'no observer checkpoint' : !world ? 'no usable world files' : behindCheckpoint(cp, world);
    if (why) {
      log.info({ reason: why }, 'observer starts from an empty world and replays the whole event log');
      this.current = emptyWorld();
      this.positions = new Map();
      this.dirty = true;
      return;
    }
    this.current = world!;
    this.positions = new Map(Object.entries(cp!.streams).map(([s, p]) => [s, { file: p.file, offset: p.offset }]));
  }

  /** Folds what was appended since the last run. Runs never overlap: a call during a run waits for it. */
  runOnce(): Promise<{ applied: number }> {
    const run = this.chain.then(() => this.run());
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async run(): Promise<{ applied: number }> {
    const { root, reader, aliases } = this.deps;
    const res = await catchUp(reader, this.current, this.positions, { aliases }).catch((err: unknown) => {
      // Whatever was folded before the failure is in memory; make the next run persist it.
      this.dirty = true;
      throw err;
    });
    if (res.applied > 0) {
      this.dirty = true;
      this.notify = true;
    }
    if (this.dirty) await writeWorld(root, this.current);
    if (this.dirty || res.moved > 0) await writeCheckpoint(root, checkpointOf(this.positions, this.current));
    this.dirty = false;
    if (this.notify) {
      this.notify = false;
      this.deps.onChange?.(this.current);
    }
    return { applied: res.applied };
  }

  /** Schedules a run soon; kicks before it starts are coalesced into it. */
  kick(): void {
    if (this.state === 'stopped' || this.kickTimer !== undefined) return;
    this.kickTimer = this.deps.clock.setTimeout(() => {
      this.kickTimer = undefined;
      void this.safeRun();
    }, this.deps.kickDelayMs ?? 10);
  }

  /** Runs every `intervalMs` after the previous run ended (so never overlapping). */
  start(intervalMs: number): void {
    if (this.state === 'running') return;
    this.state = 'running';
    const loop = () => {
      this.timer = this.deps.clock.setTimeout(() => {
        void this.safeRun().then(() => {
          if (this.state === 'running') loop();
        });
      }, intervalMs);
    };
    loop();
  }

  /** Stops scheduling; resolves once a run in progress has ended. */
  stop(): Promise<void> {
    this.state = 'stopped';
    this.deps.clock.clearTimeout(this.timer);
    if (this.kickTimer !== undefined) this.deps.clock.clearTimeout(this.kickTimer);
    this.kickTimer = undefined;
    return this.chain.then(() => undefined);
  }

  private async safeRun(): Promise<void> {
    try {
      await this.runOnce();
    } catch (err) {
      this.deps.log.error({ err }, 'observer run failed; retrying on the next run');
    }
  }
}

/** Why the world files cannot be trusted with this checkpoint (they are older than it), or null. */
function behindCheckpoint(cp: ObserverCheckpoint, world: World): string | null {
  for (const [stream, c] of Object.entries(cp.streams)) {
    const seq = world.folded && Object.hasOwn(world.folded, stream) ? world.folded[stream] : undefined;
    if (seq === undefined || seq < c.seq) return `world files are older than the checkpoint (stream ${stream})`;
  }
  return null;
}
