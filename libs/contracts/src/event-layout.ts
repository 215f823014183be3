import type { z } from 'zod';
import { ContainerObservation, HomelabEvent, StoredEvent, type EventType } from './events';

/*
 * The canonical layout of events: the key order zod outputs, which is the
 * order JSON.stringify writes a parsed value in. The log's exact fast check
 * (libs/event-log canonical-event.ts) and the agent's prevSeq splice read it
 * from here, so the schemas stay its only definition (docs/events.md).
 */

type Def = { def: { type: string }; unwrap?: () => z.ZodType; shape?: Record<string, z.ZodType> };

/** The keys of an object schema (an optional one unwrapped) in output order; none for anything else. */
export function keyOrder(schema: z.ZodType | undefined): readonly string[] {
  let s = schema as unknown as Def | undefined;
  while (s && (s.def.type === 'optional' || s.def.type === 'nullable') && s.unwrap) s = s.unwrap() as unknown as Def;
  return s?.def.type === 'object' && s.shape ? Object.keys(s.shape) : [];
}

export interface EventLayout {
  /** The event's own keys. */
  keys: readonly string[];
  /** The keys of its `data`. */
  data: readonly string[];
}

/** Per event type, its layout. */
export const EVENT_LAYOUT = Object.fromEntries(
  HomelabEvent.options.map((o) => [o.shape.type.value, { keys: keyOrder(o), data: keyOrder((o.shape as Record<string, z.ZodType>).data) }]),
) as Readonly<Record<EventType, EventLayout>>;

export const STORED_EVENT_KEYS = keyOrder(StoredEvent);
export const CONTAINER_KEYS = keyOrder(ContainerObservation);

/** The JSON value pattern of an envelope field before `prevSeq`: the plain forms the agent's stamp writes. */
function valuePattern(schema: z.ZodType): string {
  const type = (schema as unknown as Def).def.type;
  if (type === 'string') return '"[^"\\\\]*"';
  if (type === 'number') return '\\d+';
  throw new Error(`event envelope field of type ${type} has no plain layout`);
}

const envelope = HomelabEvent.options[0].shape as Record<string, z.ZodType>;
const envelopeKeys = Object.keys(envelope);
/** `{"id":…,"node":…,"seq":…,"ts":…`: every envelope field before `prevSeq`, as JSON.stringify writes a stamped event. */
const HEAD = new RegExp(
  `^\\{${envelopeKeys
    .slice(0, envelopeKeys.indexOf('prevSeq'))
    .map((k) => `"${k}":${valuePattern(envelope[k]!)}`)
    .join(',')}`,
);

/**
 * An event's JSON text with `prevSeq` set, in schema position: the bytes
 * `HomelabEvent.parse` would give back, so the hub's exact fast check can
 * take it. The agent's outbox keeps lines without it — prevSeq belongs to one
 * transmission, not to the event (docs/mqtt.md).
 */
export function withPrevSeq(line: string, prevSeq: number): string {
  const head = HEAD.exec(line)?.[0];
  if (head !== undefined && line.charCodeAt(head.length) === 44 /* , */ && !line.startsWith('"prevSeq"', head.length + 1)) {
    return `${head},"prevSeq":${prevSeq}${line.slice(head.length)}`;
  }
  // Some other layout (or prevSeq already there): rebuild it in schema order.
  const event = JSON.parse(line) as Record<string, unknown>;
  const parsed = HomelabEvent.safeParse({ ...event, prevSeq });
  return JSON.stringify(parsed.success ? parsed.data : { ...event, prevSeq });
}
