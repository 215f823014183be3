import type { Action, Clock, Command, CommandResult } from '@homelab/contracts';
import type { ActionStore } from '@homelab/action-store';
import type { Logger } from '@homelab/logging';
import { commandFor, executorAudit, resultNote, type ResultOutcome } from './commands';

export interface ResultRecoveryDeps {
  store: ActionStore;
  publishCommand: (cmd: Command) => Promise<void>;
  clock: Clock;
  log: Logger;
  /** How often the command is sent again while no answer came. */
  resendIntervalMs: number;
  /** After this long without an answer the result stays unknown (noted in the audit). */
  giveUpAfterMs: number;
}

/** Audit notes that end the asking, so that a later start does not ask again. */
const NO_JOURNAL_NOTE = "the agent's journal has no result for it";
const NO_ANSWER_NOTE = "no answer from the agent's journal";

/**
 * Completed or failed actions that carry no `result`: earlier versions renamed
 * an action into its outcome folder before rewriting it, and a crash in between
 * lost the agent's result (the store's repair notes it). The outcome's command
 * is sent again, the same bytes; the agent answers it from its journal
 * (`replayed: true`) without running anything again (docs/actions.md,
 * "Exactly once on the agent"), and the answer is recorded in place.
 */
export class ResultRecovery {
  private scanned = false;
  /** Actions asked for, by id@createdAt: first and last send in this process. */
  private readonly asking = new Map<string, { action: Action; firstSent: number; lastSent: number | null }>();

  constructor(private readonly deps: ResultRecoveryDeps) {}

  /** Once per process: finds the actions to ask for. Then sends (again) what is due; returns the ids asked this time. */
  async runOnce(): Promise<string[]> {
    const { store, clock, log } = this.deps;
    if (!this.scanned) {
      for (const state of ['completed', 'failed'] as const) {
        for (const a of await store.list(state)) if (lacksResult(a)) this.asking.set(keyOf(a), { action: a, firstSent: clock.now().getTime(), lastSent: null });
      }
      this.scanned = true;
      if (this.asking.size)
        log.warn({ actionIds: [...this.asking.values()].map((w) => w.action.id) }, "finished actions without a result: asking the agents' journals");
    }
    const asked: string[] = [];
    for (const [key, w] of this.asking) {
      const now = clock.now().getTime();
      if (now - w.firstSent >= this.deps.giveUpAfterMs) {
        this.asking.delete(key);
        await this.note(w.action, `${NO_ANSWER_NOTE} within ${Math.round(this.deps.giveUpAfterMs / 1000)} s; the result stays unknown`);
        continue;
      }
      if (w.lastSent !== null && now - w.lastSent < this.deps.resendIntervalMs) continue;
      try {
        await this.deps.publishCommand(commandFor(w.action));
        w.lastSent = now;
        asked.push(w.action.id);
      } catch (err) {
        log.warn({ err, actionId: w.action.id }, "could not ask the agent's journal for a lost result; retrying next cycle");
      }
    }
    return asked;
  }

  /**
   * Records `result` on a finished action that has none; null when the action
   * is not one of those (the caller handles the result as usual).
   */
  async take(a: Action, result: CommandResult): Promise<ResultOutcome | null> {
    if (!lacksResult(a)) return null;
    this.asking.delete(keyOf(a));
    const now = this.deps.clock.now();
    if (!result.replayed) {
      // A refusal or `interrupted`: the journal does not hold the outcome, so nothing more can be learnt.
      await this.note(a, `${NO_JOURNAL_NOTE}: ${resultNote(result)}`);
      this.deps.log.warn(
        { actionId: a.id, node: a.node, status: result.status, code: result.error?.code },
        "the agent's journal has no result for a finished action",
      );
      return 'not_running';
    }
    await this.deps.store.update(a.id, a.state, (x) =>
      x.result
        ? x
        : {
            ...x,
            result,
            audit: [...x.audit, executorAudit(now, a.state, `result recovered from the agent's journal: ${resultNote(result)}`)],
          },
    );
    this.deps.log.info({ actionId: a.id, node: a.node, state: a.state, status: result.status }, "lost result recovered from the agent's journal");
    return 'applied';
  }

  private async note(a: Action, note: string): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.store
      .update(a.id, a.state, (x) => ({ ...x, audit: [...x.audit, executorAudit(now, a.state, note)] }))
      .catch((err: unknown) => this.deps.log.warn({ err, actionId: a.id }, 'could not note the end of a result recovery'));
  }
}

/** Finished after a command was sent, with no result and no earlier "cannot be recovered" note. */
function lacksResult(a: Action): boolean {
  if ((a.state !== 'completed' && a.state !== 'failed') || a.result || !a.command) return false;
  return !a.audit.some((e) => e.note?.startsWith(NO_JOURNAL_NOTE) || e.note?.startsWith(NO_ANSWER_NOTE));
}

const keyOf = (a: Action) => `${a.id}@${a.createdAt}`;
