import { z } from 'zod';
import { Action } from './actions';
import { ActionId, IsoTime, NodeName, ServiceName } from './names';
import { WorldNode, WorldService } from './world';

/** A desired-state file that failed validation; the last good version stays in force. */
export const ConfigProblem = z.object({
  file: z.string(),
  path: z.string(),
  message: z.string(),
});
export type ConfigProblem = z.infer<typeof ConfigProblem>;

/**
 * Something the operator should know that is not (or not yet) an action.
 * - node_never_reported: desired node with monitored services but no event
 *   from it yet; no actions until it reports, so a new fleet gets no flood
 *   of pending actions (docs/supervisor.md, "Rules").
 * - node_offline: its world state is stale and commands cannot reach it, so
 *   no new actions are proposed for it.
 * - unknown_node: a node reports but has no `hosts/<node>/services.yaml`
 *   (a missing folder or a missing NODE_ALIAS_MAP entry).
 * - node_catching_up: the node announced a backlog in its birth and the hub has
 *   not folded it all yet; no new actions for it until it is current.
 * - occurrence_rejected: the drift persists, but the operator rejected the
 *   action for this very occurrence; a new occurrence proposes again, and so
 *   does the same one after the policy's `rejectCooldown` (`until`).
 * - silenced: a drift (or an offline node) inside a maintenance window of the
 *   node or service; nothing is proposed, approved or auto-cancelled for it
 *   until the window ends (`until`).
 * - restart_backoff: the service needs a restart, but the restart budget's
 *   backoff after the previous restart runs until `until`.
 * - clock_skew: the node's clock is off the hub's by more than
 *   CLOCK_SKEW_FINDING_MS (WorldNode.clocks); times are corrected, but its
 *   clock should be fixed. Gone once the offset is back under it.
 * - node_inventory_pending: the node is online but its agent has not yet sent a
 *   complete scan of this session and of the current desired state; "not
 *   reported yet" is not "missing", so no new actions for it until it does.
 * - host_temperature: the node's CPU temperature (latest heartbeat) is at or
 *   above the hub's `--host-temp-finding` (docs/host-health.md).
 * - host_throttled: the node's firmware reports under-voltage or throttling now
 *   (Raspberry Pi `get_throttled`).
 * - action_file_quarantined: an entry of an action state folder could not be
 *   read (not JSON, not an Action, a directory named `<id>.json`) and was moved
 *   to `file` under the data root; the id is free again, so the supervisor
 *   proposes anew. Shown until the operator removes the quarantined file.
 */
export const FindingKind = z.enum([
  'node_never_reported',
  'node_offline',
  'node_catching_up',
  'unknown_node',
  'occurrence_rejected',
  'silenced',
  'restart_backoff',
  'clock_skew',
  'node_inventory_pending',
  'action_file_quarantined',
  'host_temperature',
  'host_throttled',
]);

export const Finding = z.object({
  kind: FindingKind,
  /** Absent when the finding is about the hub's own data rather than a node (see `file`). */
  node: NodeName.optional(),
  service: ServiceName.optional(),
  actionId: ActionId.optional(),
  message: z.string(),
  /** When the finding stops holding by itself (end of a maintenance window, backoff or cool-down). */
  until: IsoTime.optional(),
  /** A file under the data root the finding is about. */
  file: z.string().optional(),
});
export type Finding = z.infer<typeof Finding>;

/** What a finding is about, as the UI and the Markdown summary show it: `node/service`, `node`, or the file. */
export function findingSubject(f: Pick<Finding, 'node' | 'service' | 'file'>): string {
  if (f.node) return f.service ? `${f.node}/${f.service}` : f.node;
  return f.file ?? 'hub';
}

/** `GET /summary` (JSON). */
export const Summary = z.object({
  generatedAt: IsoTime,
  nodes: z.array(WorldNode.extend({ desiredServices: z.number().int() })),
  services: z.array(WorldService.extend({ desired: z.boolean(), monitored: z.boolean() })),
  actions: z.object({
    counts: z.record(z.string(), z.number().int()),
    pending: z.array(Action),
    running: z.array(Action),
    recent: z.array(Action),
  }),
  configProblems: z.array(ConfigProblem),
  /** What the supervisor wants the operator to know that is not an action (e.g. a node that never reported). */
  findings: z.array(Finding),
  /** Services in world state, all of them, whatever `services` lists. */
  serviceCounts: z.object({ total: z.number().int(), healthy: z.number().int() }).optional(),
  /**
   * What `services` lists: `all`, or only the ones that are not healthy (`problems`) — the default
   * of `GET /summary` above SUMMARY_FULL_LIST_MAX services; `?services=all` lists them all.
   */
  servicesListed: z.enum(['all', 'problems']).optional(),
});
export type Summary = z.infer<typeof Summary>;

/** Up to this many services `GET /summary` lists them all; above, only the unhealthy ones (the full list is one query away). */
export const SUMMARY_FULL_LIST_MAX = 500;
