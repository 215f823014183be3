import { z } from 'zod';
import { CHANNELS, flagsOf, type ChannelName, type ChannelsTo, type Message, type Party } from './channels';
import { topicOf, type ParsedTopic, type TopicArgs } from './topics';

/** Why an inbound payload was refused. */
export type DecodeFailure = 'too_large' | 'not_json' | 'invalid_schema';
export type Decoded<T> = { ok: true; data: T } | { ok: false; reason: DecodeFailure; detail?: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Size check, JSON.parse and zod safeParse of one inbound MQTT payload. Never
 * throws. Strict: invalid UTF-8 is refused, not silently turned into U+FFFD.
 */
export function decodePayload<S extends z.ZodType>(payload: Uint8Array, schema: S, maxBytes: number): Decoded<z.infer<S>> {
  if (payload.length > maxBytes) return { ok: false, reason: 'too_large', detail: `${payload.length} bytes` };
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(payload));
  } catch {
    return { ok: false, reason: 'not_json' };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: 'invalid_schema', detail: z.prettifyError(parsed.error) };
  return { ok: true, data: parsed.data };
}

/** One inbound message of `channel`, checked against that channel's schema (CHANNELS). */
export function decode<C extends ChannelName>(channel: C, payload: Uint8Array, maxBytes: number): Decoded<Message<C>> {
  return decodePayload(payload, CHANNELS[channel].schema as unknown as z.ZodType<Message<C>>, maxBytes);
}

/** What the typed `publish` needs of an MQTT connection (the hub's link and the agent's both are one). */
export interface ChannelLink {
  publish(topic: string, payload: string, opts: { qos: 0 | 1; retain: boolean }): Promise<void>;
}

/** Publishes a message on `channel` to the topic of `to`, with the channel's QoS and retain flag. */
export function publish<C extends ChannelName>(link: ChannelLink, channel: C, to: TopicArgs<C>, message: Message<C>): Promise<void> {
  return publishText(link, channel, to, JSON.stringify(message));
}

/** `publish` for a payload already encoded (an outbox line that is a valid message of `channel`). */
export function publishText<C extends ChannelName>(link: ChannelLink, channel: C, to: TopicArgs<C>, text: string): Promise<void> {
  return link.publish(topicOf(channel, ...to), text, flagsOf(channel));
}

/**
 * One handler per channel `party` receives: a channel added to CHANNELS for
 * that party is a type error until it is handled.
 */
export type Handlers<P extends Party, R> = { readonly [C in ChannelsTo<P>]: Handler<ParsedTopic & { channel: C }, R> };
/** Handles one message: its parsed topic, its payload and the topic as received (for logs). */
export type Handler<T extends ParsedTopic, R> = (parsed: T, payload: Buffer, topic: string) => R;

/** The handler of a parsed topic, if its channel is one the party receives. */
export function handlerOf<P extends Party, R>(handlers: Handlers<P, R>, parsed: ParsedTopic): Handler<ParsedTopic, R> | undefined {
  return Object.hasOwn(handlers, parsed.channel) ? (handlers as unknown as Record<string, Handler<ParsedTopic, R>>)[parsed.channel] : undefined;
}
