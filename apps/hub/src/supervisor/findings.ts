import { z } from 'zod';
import { ActionId, NodeName, ServiceName } from '@homelab/contracts';

/** Why a pending action was moved to `cancelled/` (BRIEF.md, "Supervisor rules"). */
export const CancelReason = z.enum(['drift_resolved_auto', 'service_removed_from_desired_state']);
export type CancelReason = z.infer<typeof CancelReason>;

/**
 * Something the operator should know that is not (or not yet) an action.
 * - node_never_reported: desired node with monitored services but no event
 *   from it yet; no actions until it reports (seed: "flood of pending
 *   actions after bootstrap").
 * - node_offline: its world state is stale and commands cannot reach it, so
 *   no new actions are proposed for it.
 * - unknown_node: a node reports but has no `hosts/<node>/services.yaml`
 *   (a missing folder or a missing NODE_ALIAS_MAP entry).
 * - occurrence_rejected: the drift persists, but the operator rejected the
 *   action for this very occurrence; a new occurrence proposes again.
 */
export const FindingKind = z.enum(['node_never_reported', 'node_offline', 'unknown_node', 'occurrence_rejected']);

export const Finding = z.object({
  kind: FindingKind,
  node: NodeName,
  service: ServiceName.optional(),
  actionId: ActionId.optional(),
  message: z.string(),
});
export type Finding = z.infer<typeof Finding>;
