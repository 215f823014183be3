import { z } from 'zod';
import { ContainerObservation, InventoryScan, UnmanagedContainer } from './events';
import { IsoTime, NodeName, ServiceName } from './names';
import { ServiceStatus } from './status';

/**
 * One service as the observer folded it. Every field comes from events (never
 * from the observer's clock), so a replay of the same log gives the same bytes.
 */
export const WorldService = z.object({
  node: NodeName,
  service: ServiceName,
  status: ServiceStatus,
  reason: z.string().optional(),
  detail: z.string().optional(),
  /** The failing probe named by the latest unhealthy event, if a probe decided it. */
  probe: z.string().optional(),
  /**
   * When the current status began, in the hub's time: the `ts` of its first
   * event corrected by the node's clock offset (NodeClock), so a skewed agent
   * clock never shows a change in the future or hours in the past.
   */
  since: IsoTime,
  /** Hub receive time of the latest event about this service. */
  lastSeen: IsoTime,
  lastEventId: z.string(),
  lastSeq: z.number().int().nonnegative(),
  /** While unhealthy: the events of this occurrence, oldest first (capped). */
  problemEventIds: z.array(z.string()),
  containers: z.array(ContainerObservation).optional(),
});
export type WorldService = z.infer<typeof WorldService>;

/**
 * The node's clock against the hub's, measured from its events (docs/observer-runtime.md,
 * "Clock offset"). Every event gives a sample `rx − ts` = (hub − node) +
 * transit; transit is never negative, so the smallest sample of the last few
 * windows of hub receive time is the estimate. Per window, not per event, so a
 * backlog delivered late (large samples) cannot push the estimate out, and a
 * fixed clock shows within CLOCK_WINDOWS × CLOCK_WINDOW_MS of traffic.
 */
export const CLOCK_WINDOW_MS = 15_000;
export const CLOCK_WINDOWS = 4;
/** Above this offset (either way) the supervisor reports a `clock_skew` finding for the node. */
export const CLOCK_SKEW_FINDING_MS = 2_000;
export const NodeClock = z.object({
  /** How far the node's clock is ahead of the hub's, in ms (negative: behind). */
  offsetMs: z.number().int(),
  /** `[windowStartMs, smallest rx − ts in ms]` per window of hub receive time, oldest first. */
  windows: z.array(z.tuple([z.number().int(), z.number().int()])).max(CLOCK_WINDOWS),
});
export type NodeClock = z.infer<typeof NodeClock>;

export const DiskState = z.object({
  mount: z.string(),
  level: z.enum(['ok', 'warn', 'high']),
  usedPercent: z.number(),
  /** Hub time (see WorldService.since) of the first event at this level. */
  since: IsoTime,
});

export const WorldNode = z.object({
  node: NodeName,
  /** From the status topic (birth / will); null until the node was seen. */
  online: z.boolean().nullable(),
  session: z.number().int().nonnegative().nullable(),
  /** The connection within `session` the status came from (NodeStatus.connection); absent when 0. */
  connection: z.number().int().positive().optional(),
  statusSince: IsoTime.nullable(),
  /** Hub receive time of the latest event from the node itself. */
  lastSeen: IsoTime.nullable(),
  lastSeq: z.number().int().nonnegative().nullable(),
  dockerReachable: z.boolean().nullable(),
  disks: z.record(z.string(), DiskState),
  metrics: z.record(z.string(), z.number()).optional(),
  /** Highest seq the node announced as backlog in its latest birth; catching up while above lastSeq. */
  backlogUntilSeq: z.number().int().nonnegative().optional(),
  /** Events the agent's outbox dropped (events_dropped), summed. */
  droppedEvents: z.number().int().nonnegative().optional(),
  /** Containers on the node of no desired service (latest node_inventory); absent until one arrived. */
  unmanaged: z.array(UnmanagedContainer).optional(),
  unmanagedTruncated: z.boolean().optional(),
  /**
   * The clock offset against the hub's, per name the node's events came under
   * (the node's own, or an alias of NODE_ALIAS_MAP: each is its own agent and
   * clock); absent until its first event.
   */
  clocks: z.record(NodeName, NodeClock).optional(),
  /**
   * The agent's latest complete scan (latest node_inventory with `scan`): until
   * it is of the node's current session and current desired state, the world
   * does not yet say what is missing, and the supervisor proposes nothing.
   */
  inventory: InventoryScan.optional(),
});
export type WorldNode = z.infer<typeof WorldNode>;

/**
 * Highest seq folded per event-log stream (node names as sent, and `_hub`).
 * Written into both world files so that a re-fold after a crash between the
 * world write and the checkpoint write skips what the files already contain,
 * and so that two files from different writes can be told apart.
 */
export const FoldedSeqs = z.record(z.string(), z.number().int().nonnegative());

/** The format of both world files (their `version` field; docs/upgrade.md). */
export const WORLD_FILE_VERSION = 1;

/** `world/services.json`, keyed `<node>/<service>`. */
export const WorldServicesFile = z.object({
  version: z.literal(WORLD_FILE_VERSION),
  services: z.record(z.string(), WorldService),
  folded: FoldedSeqs.optional(),
});
/** `world/nodes.json`, keyed by node. */
export const WorldNodesFile = z.object({
  version: z.literal(WORLD_FILE_VERSION),
  nodes: z.record(z.string(), WorldNode),
  folded: FoldedSeqs.optional(),
});

export interface World {
  services: Record<string, WorldService>;
  nodes: Record<string, WorldNode>;
  /** See FoldedSeqs; maintained by the observer's fold, absent in hand-built worlds. */
  folded?: Record<string, number>;
}

export const serviceKey = (node: string, service: string) => `${node}/${service}`;

export function emptyWorld(): World {
  return { services: {}, nodes: {} };
}
