import type { Action, Clock, Command, CommandResult } from '@homelab/contracts';
import { ActionStoreError, type ActionStore } from '@homelab/action-store';
import type { Logger } from '@homelab/logging';
import { PeriodicLoop } from '@homelab/runtime';
import { commandFor, deadlineResult, executorAudit, outcomeTiming, resultNote, sameInstant, type ResultOutcome } from './commands';
import { ResultRecovery } from './result-recovery';

export interface ExecutorDeps {
  store: ActionStore;
  /** Sends a command to `nodes/<node>/commands` (QoS 1); rejects when it could not be handed to the broker. */
  publishCommand: (cmd: Command) => Promise<void>;
  clock: Clock;
  log: Logger;
  /** From sending to the agent's answer; after it the action fails with `deadline_exceeded`. */
  commandTimeoutMs?: number;
  /**
   * A running action's command is sent again (same bytes) after this long without a result,
   * so an agent that lost it (restarted mid-execution, or the message was dropped) answers:
   * from its journal, or `interrupted`. Default: a quarter of the timeout, at least 5 s; 0 disables.
   */
  resendIntervalMs?: number;
}

export interface ExecutorReport {
  started: string[];
  resent: string[];
  timedOut: string[];
  /** Sends that failed (broker unreachable); retried on the next cycle until the deadline. */
  unsent: string[];
  /** Sent again because no result came within resendIntervalMs. */
  repeated: string[];
  /** Finished actions without a result whose command was sent again, so the agent answers from its journal. */
  resultAsked: string[];
  errors: string[];
}

/**
 * Runs approved actions: sends the command to the agent of the action's node
 * and records the result (docs/actions.md, "Commands"). The approved → running rename
 * is the claim, so an action is sent by one executor only. After a hub restart
 * a running action is re-sent once with the same command instead of being run
 * again as something new (ask for real state; the agent journals action ids
 * and answers a resend from its journal: docs/reliability.md, "Decide from
 * state, not from the event that woke you").
 */
const emptyReport = (): ExecutorReport => ({ started: [], resent: [], timedOut: [], unsent: [], repeated: [], resultAsked: [], errors: [] });

export class Executor {
  private readonly timeoutMs: number;
  /** Anything sent before this instant was sent by an earlier process. */
  private readonly bootAt: number;
  private readonly resent = new Set<string>();
  private readonly unsent = new Set<string>();
  private readonly resendIntervalMs: number;
  /** When this process last handed each running action's command to the broker. */
  private readonly lastSent = new Map<string, number>();
  private chain: Promise<unknown> = Promise.resolve();
  /** Results being recorded now (stop waits for them). */
  private readonly recording = new Set<Promise<ResultOutcome>>();
  private readonly loop: PeriodicLoop<ExecutorReport>;
  private readonly recovery: ResultRecovery;

  constructor(private readonly deps: ExecutorDeps) {
    this.timeoutMs = deps.commandTimeoutMs ?? 120_000;
    this.resendIntervalMs = deps.resendIntervalMs ?? Math.max(5000, Math.floor(this.timeoutMs / 4));
    this.bootAt = deps.clock.now().getTime();
    this.loop = new PeriodicLoop({ name: 'executor', clock: deps.clock, log: deps.log, run: () => this.runOnce() });
    this.recovery = new ResultRecovery({ ...deps, resendIntervalMs: this.resendIntervalMs || this.timeoutMs, giveUpAfterMs: this.timeoutMs });
  }

  /** One cycle; concurrent calls run one after the other. */
  runOnce(): Promise<ExecutorReport> {
    const next = this.chain.then(() => this.cycle());
    this.chain = next.catch(() => undefined);
    return next;
  }

  kick(): void {
    this.loop.kick();
  }

  /**
   * A node's agent announced itself (its birth): it has just (re)connected
   * and subscribed. A command sent while it was away may be gone (a broker
   * that holds no session for it, e.g. the embedded one after a hub restart,
   * drops it), so its running commands go out again now instead of at the
   * next timed resend; the agent's journal answers a duplicate
   * (docs/actions.md "Commands"). Runs in turn with the cycles; never rejects.
   */
  nodeOnline(node: string): Promise<ExecutorReport> {
    const next = this.chain.then(() => this.resendTo(node));
    this.chain = next.catch(() => undefined);
    return next;
  }

  start(intervalMs: number): void {
    this.loop.start(intervalMs);
  }

  /** Stops the loop; resolves once no cycle is running (scheduled or called directly) and no result is being recorded (docs/hub-lifecycle.md). */
  async stop(): Promise<void> {
    await this.loop.stop();
    await this.chain;
    await Promise.all(this.recording);
  }

  /** Resolves when no scheduled cycle is running (for shutdown after stop(), and tests). */
  idle(): Promise<void> {
    return this.loop.idle();
  }

  /**
   * Records an agent's result (already zod-validated by ingest). Unknown or
   * finished actions are logged and ignored. Never throws: a store failure is
   * logged and answered 'store_error'; the action then stays running until its deadline.
   */
  handleResult(result: CommandResult): Promise<ResultOutcome> {
    const recording = this.applyResult(result).catch((err: unknown): ResultOutcome => {
      this.deps.log.error({ err, actionId: result.actionId }, 'could not record command result');
      return 'store_error';
    });
    this.recording.add(recording);
    return recording.finally(() => this.recording.delete(recording));
  }

  private async applyResult(result: CommandResult): Promise<ResultOutcome> {
    const { store, log, clock } = this.deps;
    const ctx = { actionId: result.actionId, node: result.node, status: result.status };
    const a = await store.get(result.actionId).catch(() => null);
    if (!a) return this.ignored('unknown_action', ctx, 'result for an unknown action');
    if (a.node !== result.node) return this.ignored('node_mismatch', { ...ctx, expected: a.node }, 'result from a node the action is not for');
    if (result.actionCreatedAt && !sameInstant(result.actionCreatedAt, a.createdAt)) {
      return this.ignored('stale_occurrence', ctx, 'result for an earlier action with this id');
    }
    if (a.state !== 'running') {
      const recovered = await this.recovery.take(a, result);
      if (recovered) return recovered;
      if (a.state === 'failed' && a.result?.error?.code === 'deadline_exceeded' && !a.audit.some((e) => e.note?.startsWith('late result'))) {
        // Keep the truth visible: it did run, only too late to count.
        await store
          .update(a.id, 'failed', (x) => ({
            ...x,
            audit: [...x.audit, executorAudit(clock.now(), 'failed', `late result after the deadline: ${resultNote(result)}`)],
          }))
          .catch(() => undefined);
      }
      return this.ignored('not_running', { ...ctx, state: a.state }, 'result for an action that is not running (duplicate or late)');
    }
    const to = result.status === 'completed' ? 'completed' : 'failed';
    try {
      const now = clock.now();
      await store.transition(a.id, 'running', to, (x) => ({
        ...x,
        result,
        audit: [...x.audit, executorAudit(now, to, resultNote(result), outcomeTiming(x, now, result))],
      }));
    } catch (err) {
      if (err instanceof ActionStoreError && err.code === 'conflict') return this.ignored('not_running', ctx, 'action finished concurrently');
      throw err;
    }
    this.forget(a);
    log.info({ ...ctx, replayed: result.replayed ?? false }, 'action finished');
    return 'applied';
  }

  private ignored(outcome: ResultOutcome, ctx: Record<string, unknown>, msg: string): ResultOutcome {
    this.deps.log.warn({ ...ctx, outcome }, msg);
    return outcome;
  }

  private async cycle(): Promise<ExecutorReport> {
    const report = emptyReport();
    for (const a of await this.deps.store.list('approved')) await this.guard(report, a, () => this.begin(a, report));
    const running = await this.deps.store.list('running');
    // Actions started above were just sent (or just failed to be); the next cycle watches them.
    for (const a of running) if (!report.started.includes(a.id)) await this.guard(report, a, () => this.watch(a, report));
    const live = new Set(running.map(keyOf));
    for (const set of [this.unsent, this.resent]) for (const k of set) if (!live.has(k)) set.delete(k);
    for (const k of this.lastSent.keys()) if (!live.has(k)) this.lastSent.delete(k);
    try {
      report.resultAsked = await this.recovery.runOnce();
    } catch (err) {
      report.errors.push(`result recovery: ${(err as Error).message}`);
      this.deps.log.error({ err }, 'could not look for finished actions without a result');
    }
    return report;
  }

  private async resendTo(node: string): Promise<ExecutorReport> {
    const report = emptyReport();
    const now = this.deps.clock.now().getTime();
    let running: Action[];
    try {
      running = await this.deps.store.list('running');
    } catch (err) {
      this.deps.log.error({ err, node }, 'could not list running actions for a node that came online');
      report.errors.push(`${node}: ${(err as Error).message}`);
      return report;
    }
    for (const a of running) {
      if (a.node !== node) continue;
      await this.guard(report, a, async () => {
        const cmd = a.command;
        // Past its deadline, or not yet re-sent after a hub restart: the cycle's own path (fail, or resend with an audit entry).
        if (!cmd || now >= Date.parse(cmd.deadline) || (Date.parse(cmd.sentAt) < this.bootAt && !this.resent.has(keyOf(a)))) return this.watch(a, report);
        report.repeated.push(a.id);
        await this.send(a, report);
      });
    }
    if (report.repeated.length) this.deps.log.info({ node, actionIds: report.repeated }, 'node came online: running commands sent again');
    return report;
  }

  private async guard(report: ExecutorReport, a: Action, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (err instanceof ActionStoreError && (err.code === 'conflict' || err.code === 'not_found')) return;
      report.errors.push(`${a.id}: ${(err as Error).message}`);
      this.deps.log.error({ err, actionId: a.id }, 'executor could not handle action');
    }
  }

  private async begin(a: Action, report: ExecutorReport): Promise<void> {
    const now = this.deps.clock.now();
    const command = { sentAt: now.toISOString(), deadline: new Date(now.getTime() + this.timeoutMs).toISOString(), attempts: 1 };
    const running = await this.deps.store.transition(a.id, 'approved', 'running', (x) => ({
      ...x,
      command,
      audit: [...x.audit, executorAudit(now, 'running', `command sent to ${x.node}; deadline ${command.deadline}`)],
    }));
    report.started.push(a.id);
    await this.send(running, report);
  }

  private async watch(a: Action, report: ExecutorReport): Promise<void> {
    const now = this.deps.clock.now();
    const key = keyOf(a);
    if (a.command && now.getTime() >= Date.parse(a.command.deadline)) {
      await this.deps.store.transition(a.id, 'running', 'failed', (x) => ({
        ...x,
        result: deadlineResult(x, now, this.timeoutMs),
        audit: [...x.audit, executorAudit(now, 'failed', 'deadline exceeded: no result from the agent', outcomeTiming(x, now))],
      }));
      this.forget(a);
      report.timedOut.push(a.id);
      this.deps.log.warn({ actionId: a.id, node: a.node }, 'action failed: deadline exceeded');
    } else if (!a.command || (Date.parse(a.command.sentAt) < this.bootAt && !this.resent.has(key))) {
      this.resent.add(key);
      const updated = await this.deps.store.update(a.id, 'running', (x) => ({
        ...x,
        // No command recorded means a crash right after the claim: it was never sent, so it gets a fresh deadline.
        command: x.command
          ? { ...x.command, attempts: x.command.attempts + 1 }
          : { sentAt: now.toISOString(), deadline: new Date(now.getTime() + this.timeoutMs).toISOString(), attempts: 1 },
        audit: [...x.audit, executorAudit(now, 'running', x.command ? 'command re-sent after hub restart' : 'command sent after hub restart')],
      }));
      report.resent.push(a.id);
      await this.send(updated, report);
    } else if (this.unsent.has(key)) {
      await this.send(a, report);
    } else if (this.resendIntervalMs > 0 && now.getTime() - (this.lastSent.get(key) ?? Date.parse(a.command.sentAt)) >= this.resendIntervalMs) {
      report.repeated.push(a.id);
      await this.send(a, report);
    }
  }

  private async send(a: Action, report: ExecutorReport): Promise<void> {
    try {
      await this.deps.publishCommand(commandFor(a));
      this.unsent.delete(keyOf(a));
      this.lastSent.set(keyOf(a), this.deps.clock.now().getTime());
    } catch (err) {
      this.unsent.add(keyOf(a));
      report.unsent.push(a.id);
      this.deps.log.warn({ err, actionId: a.id, node: a.node }, 'could not send command; retrying next cycle until the deadline');
    }
  }

  private forget(a: Action): void {
    this.unsent.delete(keyOf(a));
    this.resent.delete(keyOf(a));
    this.lastSent.delete(keyOf(a));
  }
}

/** Ids are reused by later occurrences; createdAt tells them apart. */
const keyOf = (a: Action) => `${a.id}@${a.createdAt}`;
