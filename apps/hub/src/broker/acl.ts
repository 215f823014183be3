import { CHANNELS, DEFAULT_HA_ACL, NAME_PATTERN, ROLE_SCOPES, anyGrantCovers, haGrants, parseTopic, type HaAclOptions } from '@homelab/contracts';

/** The hub's own MQTT client id; it may publish and subscribe anywhere under the prefix. */
export const HUB_CLIENT_ID = 'homelab-hub';

/** `none`: a client the broker has not (yet) identified; it may do nothing. */
export type Identity = { kind: 'hub' } | { kind: 'node'; node: string } | { kind: 'inspector' } | { kind: 'homeassistant' } | { kind: 'none' };

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

/** A topic or filter inside a role's scope (`a/b/#`): the scope itself or anything below it. */
function withinScope(scope: string | null, topicOrFilter: string): boolean {
  return scope !== null && (topicOrFilter === scope || topicOrFilter.startsWith(scope.slice(0, -1)));
}

/**
 * May this identity publish on this topic? Default deny; a node only on its own
 * channels `from` node (CHANNELS); Home Assistant and the hub's discovery
 * configs as haGrants says (HA_CHANNELS, under the configured discovery prefix).
 */
export function mayPublish(id: Identity, topic: string, ha: HaAclOptions = DEFAULT_HA_ACL): boolean {
  if (id.kind === 'hub') return withinScope(ROLE_SCOPES.hub.publish, topic) || anyGrantCovers(haGrants('hub', ha).publish, topic);
  if (id.kind === 'inspector') return withinScope(ROLE_SCOPES.inspector.publish, topic);
  if (id.kind === 'homeassistant') return anyGrantCovers(haGrants('homeassistant', ha).publish, topic);
  if (id.kind !== 'node') return false;
  const parsed = parseTopic(topic);
  return parsed !== null && parsed.node === id.node && CHANNELS[parsed.channel].from === 'node';
}

/** May this identity subscribe to this filter? Default deny; a node only to its own channels `to` node (CHANNELS). */
export function maySubscribe(id: Identity, filter: string, ha: HaAclOptions = DEFAULT_HA_ACL): boolean {
  if (filter.startsWith('$') || id.kind === 'none') return false;
  if (id.kind === 'hub') return withinScope(ROLE_SCOPES.hub.subscribe, filter) || anyGrantCovers(haGrants('hub', ha).subscribe, filter);
  if (id.kind === 'inspector') return withinScope(ROLE_SCOPES.inspector.subscribe, filter);
  if (id.kind === 'homeassistant') return anyGrantCovers(haGrants('homeassistant', ha).subscribe, filter);
  const parsed = parseTopic(filter);
  return parsed !== null && parsed.node === id.node && CHANNELS[parsed.channel].to === 'node';
}
