import { z } from 'zod';
import { ActionId, IsoTime, NodeName, ServiceName } from './names';

export const ACTION_STATES = ['pending', 'approved', 'running', 'completed', 'failed', 'rejected', 'cancelled'] as const;
export const ActionState = z.enum(ACTION_STATES);
export type ActionState = z.infer<typeof ActionState>;

/** Allowed transitions (docs/actions.md, "States"). */
export const ACTION_TRANSITIONS: Record<ActionState, readonly ActionState[]> = {
  pending: ['approved', 'rejected', 'cancelled'],
  approved: ['running'],
  running: ['completed', 'failed'],
  completed: [],
  failed: [],
  rejected: [],
  cancelled: [],
};
export const TERMINAL_STATES: readonly ActionState[] = ['completed', 'failed', 'rejected', 'cancelled'];

export const ActionType = z.enum(['container_restart', 'redeploy', 'disk_cleanup']);
export type ActionType = z.infer<typeof ActionType>;

export const Risk = z.enum(['low', 'guarded']);
export type Risk = z.infer<typeof Risk>;

/** The risk of each action type, whoever proposes it: a restart is low, what recreates or removes is guarded (docs/actions.md). */
export const ACTION_RISK: Record<ActionType, Risk> = { container_restart: 'low', redeploy: 'guarded', disk_cleanup: 'guarded' };

/** `operator_request`: proposed by an operator from the UI, API or CLI, not by the supervisor (docs/actions.md, "Manual actions"). */
export const DriftType = z.enum(['missing_service', 'unhealthy_service', 'disk_pressure', 'operator_request']);
export type DriftType = z.infer<typeof DriftType>;

export const Drift = z.object({
  type: DriftType,
  reason: z.string().max(64).optional(),
  /** Events that opened (and kept open) the problem, oldest first, capped. */
  eventIds: z.array(z.string().max(160)).max(50),
  firstSeen: IsoTime,
});
export type Drift = z.infer<typeof Drift>;

/**
 * `store`: the action store itself, e.g. when `init()` repairs a transition a crash left half-done;
 * `telegram`: an Approve / Reject tap on a notification (docs/notifications.md);
 * `home-assistant`: an Approve button pressed in Home Assistant (docs/home-assistant.md).
 */
export const Actor = z.enum(['operator', 'cli', 'api', 'telegram', 'policy', 'supervisor', 'executor', 'store', 'home-assistant']);

export const AuditEntry = z.object({
  at: IsoTime,
  state: ActionState,
  by: z.string().max(64),
  via: Actor,
  note: z.string().max(500).optional(),
  /** Where an HTTP decision came from (request IP and user agent); absent for CLI-less internal actors. */
  from: z.object({ ip: z.string().max(64).optional(), userAgent: z.string().max(200).optional() }).optional(),
  /** On the terminal entry of an executed action: how long the agent ran it (finishedAt − startedAt). */
  durationMs: z.number().int().nonnegative().optional(),
  /** On the terminal entry of an executed action: from the approval to this entry. */
  sinceApprovalMs: z.number().int().nonnegative().optional(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/** What a `disk_cleanup` removed (or, in a preview, would remove). */
export const CleanupItem = z.object({
  kind: z.enum(['container', 'image', 'build_cache', 'volume']),
  id: z.string().max(128),
  name: z.string().max(256).optional(),
  /** Bytes the engine reported for it (container: writable layer; image: its size; build cache: reclaimed). */
  bytes: z.number().int().nonnegative(),
});
export type CleanupItem = z.infer<typeof CleanupItem>;

export const CleanupReport = z.object({
  removed: z.array(CleanupItem).max(1000),
  /** Kept on purpose: label `homelab.keep=true`, or a container of a desired service. */
  kept: z.array(CleanupItem.extend({ why: z.string().max(64) })).max(1000),
  reclaimedBytes: z.number().int().nonnegative(),
});
export type CleanupReport = z.infer<typeof CleanupReport>;

/** A dry run of `disk_cleanup`, shown on the pending action so the operator knows what approving it does. */
export const CleanupPreview = CleanupReport.extend({ at: IsoTime });
export type CleanupPreview = z.infer<typeof CleanupPreview>;

export const CommandResult = z.object({
  actionId: ActionId,
  node: NodeName,
  status: z.enum(['completed', 'failed']),
  startedAt: IsoTime,
  finishedAt: IsoTime,
  /** Tail of what the operation printed or did, for the operator. */
  output: z.string().max(16_384),
  error: z.object({ code: z.string().max(64), message: z.string().max(1000) }).optional(),
  /** True when the agent answered from its journal instead of running the command again. */
  replayed: z.boolean().optional(),
  /**
   * Echo of Command.actionCreatedAt, so the hub can tell a late result of an earlier occurrence
   * of a reused action id from the result of the running one. Optional: older agents omit it.
   */
  actionCreatedAt: IsoTime.optional(),
  /** `disk_cleanup` only: what was removed and kept, and the bytes reclaimed (in a dry run: what would be). */
  cleanup: CleanupReport.optional(),
  /** Echo of Command.dryRun: this answers a preview, not the action's execution. */
  dryRun: z.literal(true).optional(),
});
export type CommandResult = z.infer<typeof CommandResult>;

/**
 * Why an action replaces a cheaper one: the restart budget of the service is
 * spent (policy `restartBudget`), so the supervisor proposes a guarded
 * `redeploy` instead of another `container_restart`.
 */
export const Escalation = z.object({
  from: ActionType,
  /** Restarts (completed or failed) of the service inside the window. */
  restarts: z.number().int().nonnegative(),
  /** The budget's window as written in the policy, e.g. `30m`. */
  window: z.string().max(32),
  /** When the latest of those restarts ended. */
  lastRestartAt: IsoTime.optional(),
});
export type Escalation = z.infer<typeof Escalation>;

export const Action = z.object({
  id: ActionId,
  type: ActionType,
  risk: Risk,
  node: NodeName,
  service: ServiceName.optional(),
  state: ActionState,
  drift: Drift,
  /** One human sentence: why this action exists. */
  summary: z.string().max(500),
  createdAt: IsoTime,
  updatedAt: IsoTime,
  audit: z.array(AuditEntry),
  command: z.object({ sentAt: IsoTime, deadline: IsoTime, attempts: z.number().int().positive() }).optional(),
  result: CommandResult.optional(),
  cancelReason: z.string().max(64).optional(),
  /** Set when this action was proposed because a cheaper one was used up (restart budget). */
  escalation: Escalation.optional(),
  /** `disk_cleanup` only: also remove unused volumes (`diskCleanup.volumes: true` in the node's services.yaml when proposed). */
  removeVolumes: z.literal(true).optional(),
  /** `disk_cleanup`, while pending: what the agent said it would remove and reclaim (a dry run), and when. */
  preview: CleanupPreview.optional(),
});
export type Action = z.infer<typeof Action>;

/** Deterministic ids: the same drift always produces the same file (docs/architecture.md, "Guarantees and how they are kept"). */
export function actionIdFor(type: ActionType, node: string, service?: string): string {
  switch (type) {
    case 'container_restart':
      return `container-restart-${node}-${service}`;
    case 'redeploy':
      return `redeploy-${node}-${service}`;
    case 'disk_cleanup':
      return `disk-cleanup-${node}`;
  }
}

/** Hub → agent on `nodes/<node>/commands`. */
export const Command = z.object({
  actionId: ActionId,
  node: NodeName,
  type: ActionType,
  service: ServiceName.optional(),
  /**
   * The hub's clock when it first sent the command (resends repeat it). The
   * agent judges `deadline` against the hub's time it learns from this stamp,
   * never against its own possibly skewed clock (node-agent hub-clock.ts).
   */
  issuedAt: IsoTime,
  /** The agent refuses a command it receives after this instant of the hub's clock. */
  deadline: IsoTime,
  /**
   * `createdAt` of the action this command belongs to. Action ids are deterministic and reused
   * once the previous action with that id ended, so the agent's journal keys an execution by
   * (actionId, actionCreatedAt): a resend of the same action is answered from the journal, a
   * later occurrence with the same id runs. Optional for older hubs (then actionId alone counts).
   */
  actionCreatedAt: IsoTime.optional(),
  /**
   * `disk_cleanup` only: report what would be removed and reclaimed, remove
   * nothing. Not journaled: it never stands in for the action's execution.
   */
  dryRun: z.literal(true).optional(),
  /** `disk_cleanup` only: also remove volumes no container uses (never unless the node's services.yaml says so). */
  removeVolumes: z.literal(true).optional(),
});
export type Command = z.infer<typeof Command>;

/** HTTP body of `POST /api/actions`: an operator proposes an action now (docs/actions.md, "Manual actions"). */
export const ProposeBody = z.object({
  type: ActionType,
  node: NodeName,
  /** Required for container_restart and redeploy; none for disk_cleanup. */
  service: ServiceName.optional(),
  by: z.string().min(1).max(64).optional(),
  note: z.string().max(500).optional(),
});
export type ProposeBody = z.infer<typeof ProposeBody>;

/** HTTP body of approve/reject. */
export const DecisionBody = z.object({
  by: z.string().min(1).max(64).optional(),
  note: z.string().max(500).optional(),
});
export type DecisionBody = z.infer<typeof DecisionBody>;
