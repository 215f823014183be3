import { z } from 'zod';
import { Command, CommandResult } from './actions';
import { DesiredStateMessage } from './desired';
import { EventsPayload } from './events';
import { IsoTime, NodeName, ServiceName } from './names';
import { EventAck, NodeStatus, ServiceStatus } from './status';

/** Every topic lives under this prefix (docs/mqtt.md). */
export const TOPIC_PREFIX = 'homelab/v1';

/** Hub → people and Home Assistant on `nodes/<node>/services/<service>/state` (docs/mqtt.md "Service state"). */
export const ServiceStateMessage = z.object({
  node: NodeName,
  service: ServiceName,
  status: ServiceStatus,
  reason: z.string().nullable(),
  since: IsoTime,
});
export type ServiceStateMessage = z.infer<typeof ServiceStateMessage>;

/** Key of a node sensor in NodeStateMessage (and in its entity's ids): HA object-id characters only. */
export const SensorKey = z.string().regex(/^[a-z0-9_]{1,80}$/, 'lowercase letters, digits and _');

/**
 * Hub → people and Home Assistant on `nodes/<node>/state` (docs/home-assistant.md):
 * whether the node is connected, as the hub folded its status topic, and the
 * values of its sensors by key (absent: not known).
 */
export const NodeStateMessage = z.object({
  node: NodeName,
  online: z.boolean().nullable(),
  since: IsoTime.nullable(),
  sensors: z.record(SensorKey, z.number()),
});
export type NodeStateMessage = z.infer<typeof NodeStateMessage>;

/** Who publishes a channel (`from`) and who it is for (`to`); `people` are inspectors and Home Assistant. */
export type Party = 'node' | 'hub' | 'people';

export interface ChannelSpec {
  /** Topic below TOPIC_PREFIX; `{node}` and `{service}` stand for one name each (NAME_PATTERN). */
  pattern: string;
  schema: z.ZodType;
  from: 'node' | 'hub';
  to: Party;
  qos: 0 | 1;
  /** Retained (the broker keeps the last one for later subscribers) or never retained (docs/mqtt.md). */
  retained: boolean;
}

/**
 * The wire, declared once (docs/mqtt.md): every MQTT channel with its topic
 * pattern, payload schema, direction, QoS and retain flag. Topics, topic
 * parsing, both brokers' ACLs (a node publishes its own channels `from` node
 * and subscribes to its own channels `to` node), both sides' subscriptions,
 * the never-retained handling and the typed publish/decode (wire.ts) are
 * derived from it. The order is the order of subscriptions.
 */
export const CHANNELS = {
  /** One event, or a batch of up to 1000 (docs/events.md). */
  events: { pattern: 'nodes/{node}/events', schema: EventsPayload, from: 'node', to: 'hub', qos: 1, retained: false },
  results: { pattern: 'nodes/{node}/results', schema: CommandResult, from: 'node', to: 'hub', qos: 1, retained: false },
  /** The birth sets online, the agent's last will sets offline. */
  status: { pattern: 'nodes/{node}/status', schema: NodeStatus, from: 'node', to: 'hub', qos: 1, retained: true },
  /** The desired state of that node, from `hosts/<node>/services.yaml`. */
  desired: { pattern: 'nodes/{node}/desired', schema: DesiredStateMessage, from: 'hub', to: 'node', qos: 1, retained: true },
  /** Carries the action id. */
  commands: { pattern: 'nodes/{node}/commands', schema: Command, from: 'hub', to: 'node', qos: 1, retained: false },
  /** Durable-write acknowledgements of events (highest seq written). */
  acks: { pattern: 'nodes/{node}/acks', schema: EventAck, from: 'hub', to: 'node', qos: 1, retained: false },
  serviceState: { pattern: 'nodes/{node}/services/{service}/state', schema: ServiceStateMessage, from: 'hub', to: 'people', qos: 1, retained: true },
  /** Published while Home Assistant discovery is on: availability and sensors of HA's node devices. */
  nodeState: { pattern: 'nodes/{node}/state', schema: NodeStateMessage, from: 'hub', to: 'people', qos: 1, retained: true },
} as const satisfies Record<string, ChannelSpec>;

export type ChannelName = keyof typeof CHANNELS;
export const CHANNEL_NAMES = Object.keys(CHANNELS) as ChannelName[];
/** The payload a channel carries, as its schema outputs it. */
export type Message<C extends ChannelName> = z.infer<(typeof CHANNELS)[C]['schema']>;
/** Channels a party receives: everyone of them must be handled (see `Handlers`). */
export type ChannelsTo<P extends Party> = { [C in ChannelName]: (typeof CHANNELS)[C]['to'] extends P ? C : never }[ChannelName];
/** Channels a party publishes. */
export type ChannelsFrom<P extends 'node' | 'hub'> = { [C in ChannelName]: (typeof CHANNELS)[C]['from'] extends P ? C : never }[ChannelName];

/**
 * What the hub and inspectors may do, beyond the table: the hub owns the whole
 * tree (it sends every hub channel and clears retained messages on
 * never-retained topics), an inspector reads everything and publishes nothing.
 * A node's rights come from the table alone (channels `from` / `to` node, its
 * own name only).
 */
export const ROLE_SCOPES = {
  hub: { publish: `${TOPIC_PREFIX}/#`, subscribe: `${TOPIC_PREFIX}/#` },
  inspector: { publish: null, subscribe: 'homelab/#' },
} as const;

/** Channels a party receives, in table order. */
export function channelsTo<P extends Party>(party: P): ChannelsTo<P>[] {
  return CHANNEL_NAMES.filter((c) => CHANNELS[c].to === party) as ChannelsTo<P>[];
}

/** Channels a party publishes, in table order. */
export function channelsFrom<P extends 'node' | 'hub'>(party: P): ChannelsFrom<P>[] {
  return CHANNEL_NAMES.filter((c) => CHANNELS[c].from === party) as ChannelsFrom<P>[];
}

/** QoS and retain flag of a channel's messages. */
export function flagsOf(channel: ChannelName): { qos: 0 | 1; retain: boolean } {
  const spec: ChannelSpec = CHANNELS[channel];
  return { qos: spec.qos, retain: spec.retained };
}

/** True for channels a broker must never keep retained (docs/mqtt.md). */
export function isNeverRetainedChannel(channel: ChannelName): boolean {
  return !(CHANNELS[channel] as ChannelSpec).retained;
}
