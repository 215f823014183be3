import { z } from 'zod';
import { ContainerObservation, UnmanagedContainer } from './events';
import { IsoTime, NodeName, ServiceName } from './names';

export const ServiceHealth = z.enum(['healthy', 'unhealthy']);

/**
 * One service as the observer folded it. Every field comes from events (never
 * from the observer's clock), so a replay of the same log gives the same bytes.
 */
export const WorldService = z.object({
  node: NodeName,
  service: ServiceName,
  status: ServiceHealth,
  reason: z.string().optional(),
  detail: z.string().optional(),
  /** The failing probe named by the latest unhealthy event, if a probe decided it. */
  probe: z.string().optional(),
  /** Event time (`ts`) of the first event of the current status. */
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

export const DiskState = z.object({
  mount: z.string(),
  level: z.enum(['ok', 'warn', 'high']),
  usedPercent: z.number(),
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
});
export type WorldNode = z.infer<typeof WorldNode>;

/**
 * Highest seq folded per event-log stream (node names as sent, and `_hub`).
 * Written into both world files so that a re-fold after a crash between the
 * world write and the checkpoint write skips what the files already contain,
 * and so that two files from different writes can be told apart.
 */
export const FoldedSeqs = z.record(z.string(), z.number().int().nonnegative());

/** `world/services.json`, keyed `<node>/<service>`. */
export const WorldServicesFile = z.object({
  version: z.literal(1),
  services: z.record(z.string(), WorldService),
  folded: FoldedSeqs.optional(),
});
/** `world/nodes.json`, keyed by node. */
export const WorldNodesFile = z.object({
  version: z.literal(1),
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
