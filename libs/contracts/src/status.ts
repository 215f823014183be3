import { z } from 'zod';
import { IsoTime, NodeName } from './names';

/**
 * Retained payload of `nodes/<node>/status`. The agent's birth message says
 * online and its last will says offline; both carry the agent's session
 * counter so a stale will can never mark a reconnected node offline.
 */
export const NodeStatus = z.object({
  node: NodeName,
  state: z.enum(['online', 'offline']),
  session: z.number().int().nonnegative(),
  ts: IsoTime.optional(),
  version: z.string().max(64).optional(),
});
export type NodeStatus = z.infer<typeof NodeStatus>;

/** Hub → agent on `nodes/<node>/acks`: every event with seq ≤ upToSeq is durably written. */
export const EventAck = z.object({
  node: NodeName,
  upToSeq: z.number().int().nonnegative(),
});
export type EventAck = z.infer<typeof EventAck>;
