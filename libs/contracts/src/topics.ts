import { CHANNEL_NAMES, CHANNELS, TOPIC_PREFIX, isNeverRetainedChannel, type ChannelName } from './channels';
import { NAME_PATTERN } from './names';

/** `{node}`, `{service}`: the names a pattern takes, in order. */
type ParamNames<P extends string> = P extends `${string}{${infer K}}${infer R}` ? [K, ...ParamNames<R>] : [];
type AsStrings<T> = T extends [unknown, ...infer R] ? [string, ...AsStrings<R>] : [];
/** The arguments of a channel's topic builder: one name per `{…}` of its pattern. */
export type TopicArgs<C extends ChannelName> = AsStrings<ParamNames<(typeof CHANNELS)[C]['pattern']>>;

/** Each channel's topic, split at `/` (prefix included); `null` marks a name. */
const SEGMENTS = Object.fromEntries(
  CHANNEL_NAMES.map((c) => [c, [...TOPIC_PREFIX.split('/'), ...CHANNELS[c].pattern.split('/')].map((s) => (s.startsWith('{') ? null : s))]),
) as Record<ChannelName, (string | null)[]>;

/** The topic of `channel` for these names (node first). */
export function topicOf<C extends ChannelName>(channel: C, ...args: TopicArgs<C>): string {
  let i = 0;
  return SEGMENTS[channel].map((s) => s ?? (args as readonly string[])[i++]).join('/');
}

/** The subscription filter of `channel` for every node (and every service): each name is `+`. */
export function filterOf(channel: ChannelName): string {
  return SEGMENTS[channel].map((s) => s ?? '+').join('/');
}

type Builders = { readonly [C in ChannelName]: (...args: TopicArgs<C>) => string };

/** Topic builders, one per channel (see CHANNELS): `topics.events('piha')`. */
export const topics = {
  ...(Object.fromEntries(CHANNEL_NAMES.map((c) => [c, (...args: string[]) => topicOf(c, ...(args as never))])) as Builders),
  /** Subscription filter of a channel for every node. */
  allNodes: filterOf,
};

export interface ParsedTopic {
  channel: ChannelName;
  node: string;
  /** The service of a service channel. */
  service?: string;
}

/** The channel and names of a topic; null for anything that is not exactly a channel's topic with valid names. */
export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  for (const channel of CHANNEL_NAMES) {
    const segs = SEGMENTS[channel];
    if (segs.length !== parts.length) continue;
    const names: string[] = [];
    let ok = true;
    for (let i = 0; i < segs.length && ok; i++) {
      const s = segs[i];
      const p = parts[i]!;
      if (s === null) {
        ok = NAME_PATTERN.test(p);
        names.push(p);
      } else ok = s === p;
    }
    if (!ok) continue;
    const [node, service] = names as [string, string | undefined];
    return service === undefined ? { channel, node } : { channel, node, service };
  }
  return null;
}

/** True for the topic of a never-retained channel (docs/mqtt.md). */
export function isNeverRetained(topic: string): boolean {
  const parsed = parseTopic(topic);
  return parsed !== null && isNeverRetainedChannel(parsed.channel);
}
