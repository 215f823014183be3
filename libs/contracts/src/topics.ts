import { NAME_PATTERN } from './names';

/** Every topic lives under this prefix (docs/mqtt.md). */
export const TOPIC_PREFIX = 'homelab/v1';

export const NODE_CHANNELS = ['status', 'events', 'commands', 'results', 'desired', 'acks'] as const;
export type NodeChannel = (typeof NODE_CHANNELS)[number];

const node = (n: string, channel: NodeChannel) => `${TOPIC_PREFIX}/nodes/${n}/${channel}`;

export const topics = {
  /** Retained. Birth sets online, the agent's last will sets offline. */
  status: (n: string) => node(n, 'status'),
  /** Agent → hub, QoS 1, never retained. */
  events: (n: string) => node(n, 'events'),
  /** Hub → agent, QoS 1; carries the action id. */
  commands: (n: string) => node(n, 'commands'),
  /** Agent → hub, QoS 1. */
  results: (n: string) => node(n, 'results'),
  /** Hub → agent, retained desired state of that node. */
  desired: (n: string) => node(n, 'desired'),
  /** Hub → agent, durable-write acknowledgements of events (highest seq written). */
  acks: (n: string) => node(n, 'acks'),
  /** Hub → people and Home Assistant, retained state of one service. */
  serviceState: (n: string, service: string) => `${TOPIC_PREFIX}/nodes/${n}/services/${service}/state`,
  /** Subscription patterns used by the hub. */
  allNodes: (channel: NodeChannel) => `${TOPIC_PREFIX}/nodes/+/${channel}`,
} as const;

/**
 * Channels whose messages a broker must never keep retained (docs/mqtt.md):
 * a retained event, command, result or ack would be delivered again to every
 * new subscriber as if it had just happened.
 */
export const NEVER_RETAINED_CHANNELS: readonly NodeChannel[] = ['events', 'commands', 'results', 'acks'];

/** True for a node topic of a never-retained channel. */
export function isNeverRetained(topic: string): boolean {
  const parsed = parseNodeTopic(topic);
  return parsed !== null && NEVER_RETAINED_CHANNELS.includes(parsed.channel);
}

export interface ParsedNodeTopic {
  node: string;
  channel: NodeChannel;
}

/** Parses `homelab/v1/nodes/<node>/<channel>`; null for anything else or an invalid node name. */
export function parseNodeTopic(topic: string): ParsedNodeTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== TOPIC_PREFIX || parts[2] !== 'nodes') return null;
  const [, , , n, channel] = parts;
  if (!n || !NAME_PATTERN.test(n)) return null;
  if (!(NODE_CHANNELS as readonly string[]).includes(channel ?? '')) return null;
  return { node: n, channel: channel as NodeChannel };
}
