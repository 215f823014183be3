import { NAME_PATTERN, TOPIC_PREFIX, parseNodeTopic, type NodeChannel } from '@homelab/contracts';

/** The hub's own MQTT client id; it may publish and subscribe anywhere under the prefix. */
export const HUB_CLIENT_ID = 'homelab-hub';

const NODE_PUBLISH: readonly NodeChannel[] = ['status', 'events', 'results'];
const NODE_SUBSCRIBE: readonly NodeChannel[] = ['commands', 'desired', 'acks'];

/** `none`: a client the broker has not (yet) identified; it may do nothing. */
export type Identity = { kind: 'hub' } | { kind: 'node'; node: string } | { kind: 'inspector' } | { kind: 'none' };

/**
 * Who a client is. A node agent connects with its node name as both username
 * and client id (client id = username, so no node can take over another's
 * session: docs/security.md, "Client id = username = node name"), and then
 * speaks only for itself; everything else
 * is a read-only inspector (e.g. `mosquitto_sub`). Names with `+`, `#` or `/`
 * never become a node (CVE-2017-7650).
 */
export function identify(clientId: string, username?: string): Identity {
  if (clientId === HUB_CLIENT_ID && username === HUB_CLIENT_ID) return { kind: 'hub' };
  if (username !== undefined && username === clientId && NAME_PATTERN.test(clientId)) return { kind: 'node', node: clientId };
  return { kind: 'inspector' };
}

/** May this identity publish on this topic? Default deny. */
export function mayPublish(id: Identity, topic: string): boolean {
  if (id.kind === 'hub') return topic.startsWith(`${TOPIC_PREFIX}/`);
  if (id.kind !== 'node') return false;
  const parsed = parseNodeTopic(topic);
  return parsed !== null && parsed.node === id.node && NODE_PUBLISH.includes(parsed.channel);
}

/** May this identity subscribe to this filter? Default deny; inspectors read `homelab/#` only. */
export function maySubscribe(id: Identity, filter: string): boolean {
  if (filter.startsWith('$') || id.kind === 'none') return false;
  if (id.kind === 'hub') return filter.startsWith(`${TOPIC_PREFIX}/`);
  if (id.kind === 'inspector') return filter === 'homelab/#' || filter.startsWith(`${TOPIC_PREFIX}/`);
  const parsed = parseNodeTopic(filter);
  return parsed !== null && parsed.node === id.node && NODE_SUBSCRIBE.includes(parsed.channel);
}
