import type { Action, Clock, ConfigProblem, PolicySpec, World } from '@homelab/contracts';
import { ActionStoreError, type ActionStore } from '@homelab/action-store';
import type { Logger } from '@homelab/logging';
import { PeriodicLoop } from '@homelab/runtime';
import { DesiredFileCache, forAgents, loadDesired, type DesiredState } from '../desired';
import type { CancelReason, Finding } from './findings';
import { MAX_RESTART_WINDOW_MS } from './policy';
import { quarantineFindings } from './quarantine-findings';
import { reconcile } from './reconcile';

export interface SupervisorDeps {
  /** Folder holding `<node>/services.yaml`. */
  hostsDir: string;
  store: ActionStore;
  world: () => World;
  clock: Clock;
  log: Logger;
  /** NODE_ALIAS_MAP (docs/node-aliases.md). */
  aliases: Record<string, string>;
  /**
   * Called after every load with the desired state in force, as agents get it
   * (hub-only keys such as `policy` and `maintenance` removed), to publish it.
   */
  onDesired?: (desired: DesiredState) => void;
  /** Called after a cycle that approved actions by policy, e.g. to kick the executor. */
  onApproved?: (ids: string[]) => void;
  /** Called after every cycle, failed ones included, with its duration in ms (the `homelab_supervisor_cycle_seconds` metric). */
  onCycle?: (ms: number) => void;
  /** See ReconcileInput.settleMs. */
  settleMs?: number;
  /** See ReconcileInput.hostTempFindingC. */
  hostTempFindingC?: number;
}

export interface SupervisorReport {
  at: string;
  created: string[];
  cancelled: { id: string; reason: CancelReason }[];
  /** Approved by policy (pending → approved, audit `policy`). */
  approved: string[];
  /** Cancels or approvals that lost a race (e.g. the operator approved in between); nothing to do. */
  skipped: string[];
  findings: Finding[];
  problems: ConfigProblem[];
  errors: string[];
}

/**
 * The supervisor loop (docs/supervisor.md, "One cycle"): each cycle reloads
 * desired state, reconciles it with world state and the existing actions, and
 * applies the plan through the action store. Creation is idempotent (the store
 * answers 'exists'), so a cycle that changes nothing writes no file.
 */
export class Supervisor {
  private lastGood: DesiredState = {};
  private lastGoodPolicy: PolicySpec | undefined;
  private readonly fileCache = new DesiredFileCache();
  private configProblems: ConfigProblem[] = [];
  private lastFindings: Finding[] = [];
  private reported = '';
  private chain: Promise<unknown> = Promise.resolve();
  private readonly loop: PeriodicLoop<SupervisorReport>;

  constructor(private readonly deps: SupervisorDeps) {
    this.loop = new PeriodicLoop({ name: 'supervisor', clock: deps.clock, log: deps.log, run: () => this.runOnce() });
  }

  /** Runs one cycle; concurrent calls run one after the other. */
  runOnce(): Promise<SupervisorReport> {
    const next = this.chain.then(() => this.timedCycle());
    this.chain = next.catch(() => undefined);
    return next;
  }

  problems(): ConfigProblem[] {
    return this.configProblems;
  }

  /** Findings of the last cycle. */
  findings(): Finding[] {
    return this.lastFindings;
  }

  desired(): DesiredState {
    return this.lastGood;
  }

  /** Fleet-wide policy in force (`hosts/policy.yaml`); undefined means the built-in defaults. */
  policy(): PolicySpec | undefined {
    return this.lastGoodPolicy;
  }

  kick(): void {
    this.loop.kick();
  }

  start(intervalMs: number): void {
    this.loop.start(intervalMs);
  }

  /** Stops the loop; resolves once no cycle is running, scheduled or called directly (docs/hub-lifecycle.md). */
  async stop(): Promise<void> {
    await this.loop.stop();
    await this.chain;
  }

  /** Resolves when no scheduled cycle is running (for shutdown after stop(), and tests). */
  idle(): Promise<void> {
    return this.loop.idle();
  }

  private async timedCycle(): Promise<SupervisorReport> {
    const t0 = performance.now();
    try {
      return await this.cycle();
    } finally {
      this.deps.onCycle?.(performance.now() - t0);
    }
  }

  private async cycle(): Promise<SupervisorReport> {
    const { store, log, clock } = this.deps;
    const loaded = await loadDesired(this.deps.hostsDir, this.lastGood, log, { lastGoodPolicy: this.lastGoodPolicy, cache: this.fileCache });
    this.lastGood = loaded.desired;
    this.lastGoodPolicy = loaded.policy;
    this.configProblems = loaded.problems;
    try {
      this.deps.onDesired?.(forAgents(loaded.desired));
    } catch (err) {
      log.warn({ err }, 'onDesired failed');
    }

    const now = clock.now();
    const plan = reconcile({
      desired: loaded.desired,
      world: this.deps.world(),
      actions: await store.list(),
      // Restarts the store archived when it reused their id: the restart budget needs them.
      history: store.archived ? await store.archived({ since: new Date(now.getTime() - MAX_RESTART_WINDOW_MS), states: ['completed', 'failed'] }) : [],
      now,
      aliases: this.deps.aliases,
      unreadableNodes: loaded.hostsReadable ? loaded.invalidHosts.filter((n) => !Object.hasOwn(loaded.desired, n)) : 'all',
      ...(loaded.policy ? { policy: loaded.policy } : {}),
      ...(this.deps.settleMs !== undefined ? { settleMs: this.deps.settleMs } : {}),
      ...(this.deps.hostTempFindingC !== undefined ? { hostTempFindingC: this.deps.hostTempFindingC } : {}),
    });

    // Listing the actions above moved any unreadable file aside; the operator learns of it here.
    const findings = [...plan.findings, ...(await this.quarantineFindings())];
    this.lastFindings = findings;
    const report: SupervisorReport = {
      at: now.toISOString(),
      created: [],
      cancelled: [],
      approved: [],
      skipped: [],
      findings,
      problems: loaded.problems,
      errors: [],
    };
    for (const c of plan.cancel) {
      try {
        await store.transition(c.id, 'pending', 'cancelled', (a) => cancelled(a, c.reason, now));
        report.cancelled.push(c);
      } catch (err) {
        if (err instanceof ActionStoreError && (err.code === 'conflict' || err.code === 'not_found')) report.skipped.push(c.id);
        else report.errors.push(`cancel ${c.id}: ${(err as Error).message}`);
      }
    }
    const failedCreates = new Set<string>();
    for (const a of plan.create) {
      try {
        if ((await store.create(a)) === 'created') report.created.push(a.id);
      } catch (err) {
        failedCreates.add(a.id);
        report.errors.push(`create ${a.id}: ${(err as Error).message}`);
      }
    }
    for (const ap of plan.approve) {
      if (failedCreates.has(ap.id)) continue;
      try {
        await store.transition(ap.id, 'pending', 'approved', (a) => approvedByPolicy(a, ap.note, now));
        report.approved.push(ap.id);
      } catch (err) {
        // The operator decided first (or the action is gone): theirs stands.
        if (err instanceof ActionStoreError && (err.code === 'conflict' || err.code === 'not_found')) report.skipped.push(ap.id);
        else report.errors.push(`approve ${ap.id}: ${(err as Error).message}`);
      }
    }
    if (report.approved.length) {
      try {
        this.deps.onApproved?.(report.approved);
      } catch (err) {
        log.warn({ err }, 'onApproved failed');
      }
    }
    this.logReport(report, plan.approve);
    return report;
  }

  private async quarantineFindings(): Promise<Finding[]> {
    try {
      return this.deps.store.quarantined ? quarantineFindings(await this.deps.store.quarantined()) : [];
    } catch (err) {
      this.deps.log.error({ err }, 'could not list quarantined action files');
      return [];
    }
  }

  /** Changes are logged every time; findings and config problems only when they change (cycles run every few seconds). */
  private logReport(r: SupervisorReport, approvals: { id: string; note: string }[]): void {
    const { log } = this.deps;
    for (const id of r.created) log.info({ actionId: id }, 'proposed action');
    for (const c of r.cancelled) log.info({ actionId: c.id, reason: c.reason }, 'cancelled pending action');
    for (const id of r.approved) log.info({ actionId: id, note: approvals.find((a) => a.id === id)?.note }, 'approved by policy');
    for (const e of r.errors) log.error({ detail: e }, 'could not apply supervisor plan');
    const state = JSON.stringify([r.findings, r.problems]);
    if (state !== this.reported) {
      this.reported = state;
      if (r.findings.length) log.warn({ findings: r.findings }, 'supervisor findings');
      if (r.problems.length) log.warn({ problems: r.problems }, 'invalid desired state; the last good version of each host stays in force');
    }
  }
}

function approvedByPolicy(a: Action, note: string, now: Date): Action {
  const at = now.toISOString();
  return { ...a, audit: [...a.audit, { at, state: 'approved', by: 'policy', via: 'policy', note }] };
}

function cancelled(a: Action, reason: CancelReason, now: Date): Action {
  const at = now.toISOString();
  return { ...a, updatedAt: at, cancelReason: reason, audit: [...a.audit, { at, state: 'cancelled', by: 'supervisor', via: 'supervisor', note: reason }] };
}
