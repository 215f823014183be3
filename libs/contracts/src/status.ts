import { z } from 'zod';
import { IsoTime, NodeName, ServiceName } from './names';

/**
 * `starting`: the agent has no verdict yet (a healthcheck still in its start
 * period, or a probe without its first result); neither healthy nor missing.
 */
export const ServiceStatus = z.enum(['healthy', 'unhealthy', 'starting']);
export type ServiceStatus = z.infer<typeof ServiceStatus>;

export const ServiceSnapshot = z.object({
  status: ServiceStatus,
  reason: z.string().max(64).optional(),
});
export type ServiceSnapshot = z.infer<typeof ServiceSnapshot>;

/**
 * Retained payload of `nodes/<node>/status`. The agent's birth message says
 * online and its last will says offline; both carry the agent's session
 * counter so a stale will can never mark a reconnected node offline.
 */
export const NodeStatus = z.object({
  node: NodeName,
  state: z.enum(['online', 'offline']),
  session: z.number().int().nonnegative(),
  /**
   * Which connection of the session this is (1, 2, … per connect attempt of
   * the agent's process), in the birth and in that connection's will. A
   * network blip keeps the session but not the connection, so the will of the
   * dropped connection can never hide the birth of the next one (docs/mqtt.md
   * "Status ordering"). Absent from older agents: counts as 0.
   */
  connection: z.number().int().nonnegative().optional(),
  ts: IsoTime.optional(),
  version: z.string().max(64).optional(),
  /**
   * Birth only, when unacknowledged events wait in the agent's outbox: they
   * follow in seq order up to `untilSeq`. Until the hub has folded that far
   * the node is catching up, and the supervisor proposes nothing for it, so
   * a problem that resolved while the hub was unreachable never opens an
   * action (docs/supervisor.md, "Rules").
   */
  backlog: z.object({ events: z.number().int().nonnegative(), untilSeq: z.number().int().nonnegative() }).optional(),
  /** Birth only: the agent's current view of each monitored service, sent before the backlog. */
  services: z.record(ServiceName, ServiceSnapshot).optional(),
});
export type NodeStatus = z.infer<typeof NodeStatus>;

/** Hub → agent on `nodes/<node>/acks`: every event with seq ≤ upToSeq is durably written. */
export const EventAck = z.object({
  node: NodeName,
  upToSeq: z.number().int().nonnegative(),
  /** The hub received an event whose `prevSeq` is beyond what it holds: resend everything after `upToSeq`. */
  gap: z.boolean().optional(),
});
export type EventAck = z.infer<typeof EventAck>;
