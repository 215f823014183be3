import { Command, type Action, type Clock, type CommandResult } from '@homelab/contracts';
import { ActionStoreError, type ActionStore } from '@homelab/action-store';
import type { Logger } from '@homelab/logging';
import { PeriodicLoop } from '@homelab/runtime';

export interface CleanupPreviewerDeps {
  store: ActionStore;
  publishCommand: (cmd: Command) => Promise<void>;
  clock: Clock;
  log: Logger;
  /** A pending disk_cleanup without a preview is asked again after this long (agent offline, message lost). Default 60 s. */
  retryMs?: number;
  /** A preview older than this is refreshed while the action waits (disks change). Default 10 min. */
  refreshMs?: number;
}

/** What handleResult did with a dry-run result. */
export type PreviewOutcome = 'recorded' | 'not_pending' | 'stale_occurrence' | 'failed' | 'store_error';

/**
 * A disk_cleanup first shows a preview of the bytes it would reclaim on the
 * pending action (docs/actions.md, "Preview"). For every pending disk_cleanup the hub
 * sends the agent a dry run of the same command (`dryRun: true`, never
 * journaled, removes nothing) and records the answer on the action as
 * `preview`, refreshed while the action waits.
 */
export class CleanupPreviewer {
  private readonly retryMs: number;
  private readonly refreshMs: number;
  /** When this process last asked for each action occurrence's preview (keyed by id and createdAt: ids are reused). */
  private readonly askedAt = new Map<string, number>();
  private readonly loop: PeriodicLoop<string[]>;

  constructor(private readonly deps: CleanupPreviewerDeps) {
    this.retryMs = deps.retryMs ?? 60_000;
    this.refreshMs = deps.refreshMs ?? 10 * 60_000;
    this.loop = new PeriodicLoop({ name: 'cleanup previewer', clock: deps.clock, log: deps.log, run: () => this.runOnce() });
  }

  start(intervalMs: number): void {
    this.loop.start(intervalMs);
  }

  /** Stops the loop; resolves once the cycle in progress (if any) has ended (docs/hub-lifecycle.md). */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  kick(): void {
    this.loop.kick();
  }

  /** Asks for the previews that are missing or old; returns the ids asked for. */
  async runOnce(): Promise<string[]> {
    const now = this.deps.clock.now().getTime();
    const pending = (await this.deps.store.list('pending')).filter((a) => a.type === 'disk_cleanup');
    const live = new Set(pending.map(occurrence));
    for (const key of this.askedAt.keys()) if (!live.has(key)) this.askedAt.delete(key);
    const asked: string[] = [];
    for (const a of pending) {
      if (!this.due(a, now)) continue;
      this.askedAt.set(occurrence(a), now);
      try {
        await this.deps.publishCommand(previewCommand(a, this.deps.clock.now(), this.retryMs));
        asked.push(a.id);
      } catch (err) {
        this.deps.log.warn({ err, actionId: a.id }, 'could not ask for a disk cleanup preview; retrying later');
      }
    }
    return asked;
  }

  private due(a: Action, now: number): boolean {
    const last = this.askedAt.get(occurrence(a));
    if (last !== undefined && now - last < this.retryMs) return false;
    if (!a.preview) return true;
    return now - Date.parse(a.preview.at) >= this.refreshMs;
  }

  /** Records a dry-run result on its pending action. Never throws. */
  async handleResult(r: CommandResult): Promise<PreviewOutcome> {
    if (r.status !== 'completed' || !r.cleanup) {
      this.deps.log.warn({ actionId: r.actionId, node: r.node, error: r.error }, 'disk cleanup preview failed');
      return 'failed';
    }
    const report = r.cleanup;
    try {
      let outcome: PreviewOutcome = 'recorded';
      await this.deps.store.update(r.actionId, 'pending', (a) => {
        if (a.node !== r.node || (r.actionCreatedAt && r.actionCreatedAt !== a.createdAt)) {
          outcome = 'stale_occurrence';
          return a;
        }
        return { ...a, preview: { ...report, at: r.finishedAt } };
      });
      if (outcome === 'recorded') this.deps.log.info({ actionId: r.actionId, bytes: report.reclaimedBytes }, 'disk cleanup preview recorded');
      return outcome;
    } catch (err) {
      if (err instanceof ActionStoreError && (err.code === 'not_found' || err.code === 'conflict')) return 'not_pending';
      this.deps.log.error({ err, actionId: r.actionId }, 'could not record the disk cleanup preview');
      return 'store_error';
    }
  }
}

const occurrence = (a: Action) => `${a.id}@${a.createdAt}`;

/** The dry-run twin of the action's command: same id and occurrence, `dryRun: true`, a short deadline. */
export function previewCommand(a: Action, now: Date, ttlMs: number): Command {
  return Command.parse({
    actionId: a.id,
    node: a.node,
    type: a.type,
    issuedAt: now.toISOString(),
    deadline: new Date(now.getTime() + ttlMs).toISOString(),
    actionCreatedAt: a.createdAt,
    dryRun: true,
    ...(a.removeVolumes ? { removeVolumes: true } : {}),
  });
}
