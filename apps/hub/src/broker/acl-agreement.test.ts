import { describe, expect, it } from 'vitest';
import { CHANNEL_NAMES, CHANNELS, filterOf, topicOf, type ChannelName } from '@homelab/contracts';
import { HUB_CLIENT_ID, identify, mayPublish, maySubscribe, type Identity } from './acl';
import type { CredentialsFile, Role } from './credentials';
import { mosquittoFiles } from './mosquitto-config';

/** A channel's topic for `node` (and a service, for service channels). */
const topic = (channel: ChannelName, node: string) => (topicOf as (c: ChannelName, ...names: string[]) => string)(channel, node, 'z2m');

/** MQTT wildcard matching as Mosquitto applies an ACL line: to a topic (publish) or to a whole filter (subscribe). */
function aclCovers(pattern: string, topicOrFilter: string): boolean {
  const acl = pattern.split('/');
  const sub = topicOrFilter.split('/');
  for (let i = 0; i < acl.length; i++) {
    if (acl[i] === '#') return true;
    if (i >= sub.length || sub[i] === '#') return false;
    if (acl[i] !== '+' && acl[i] !== sub[i]) return false;
    if (acl[i] === '+' && sub[i] === '#') return false;
  }
  return acl.length === sub.length;
}

/** What the generated Mosquitto ACL grants `user`: `write` to publish, `read` to subscribe (readwrite both). */
function mosquittoAllows(aclFile: string, user: string, access: 'read' | 'write', topicOrFilter: string): boolean {
  const block = aclFile.split('\n\n').find((b) => b.split('\n').includes(`user ${user}`));
  if (!block) return false;
  return block
    .split('\n')
    .map((line) => /^topic (read|write|readwrite) (\S+)$/.exec(line))
    .some((m) => m !== null && (m[1] === access || m[1] === 'readwrite') && aclCovers(m[2]!, topicOrFilter));
}

const users: Record<string, Role> = { piha: 'node', 'chelsty-ha': 'node', [HUB_CLIENT_ID]: 'hub', ops: 'inspector', ha: 'homeassistant' };
const creds: CredentialsFile = {
  version: 1,
  users: Object.fromEntries(
    Object.entries(users).map(([name, role]) => [name, { role, scrypt: 'x', mosquitto: '$7$x', createdAt: '2026-01-01T00:00:00.000Z' }]),
  ),
} as CredentialsFile;
const acl = mosquittoFiles(creds, { maxPayloadBytes: 1000 }).acl;

/** As the embedded broker identifies each user once logged in (auth.ts: the credentials file tells an inspector). */
const identities: Record<string, Identity> = {
  piha: identify('piha', 'piha'),
  [HUB_CLIENT_ID]: identify(HUB_CLIENT_ID, HUB_CLIENT_ID),
  ops: { kind: 'inspector' },
  ha: { kind: 'homeassistant' },
};

/**
 * What the channel table says each role may do: a node publishes its own
 * channels `from` node and subscribes to its own channels `to` node, never
 * another node's and never every node's; the hub publishes and subscribes
 * every channel; an inspector reads every channel and publishes none; Home
 * Assistant reads the channels for people and publishes none of the table.
 */
function expected(user: string, access: 'publish' | 'subscribe', channel: ChannelName, target: 'own' | 'other' | 'every'): boolean {
  if (users[user] === 'hub') return true;
  if (users[user] === 'inspector') return access === 'subscribe';
  if (users[user] === 'homeassistant') return access === 'subscribe' && CHANNELS[channel].to === 'people';
  if (target !== 'own') return false;
  return access === 'publish' ? CHANNELS[channel].from === 'node' : CHANNELS[channel].to === 'node';
}

const cases = CHANNEL_NAMES.flatMap((channel) =>
  Object.keys(identities).flatMap((user) =>
    (['own', 'other', 'every'] as const).flatMap((target) => {
      const where = target === 'every' ? filterOf(channel) : topic(channel, target === 'own' ? 'piha' : 'chelsty-ha');
      return (['publish', 'subscribe'] as const)
        .filter((access) => !(access === 'publish' && target === 'every'))
        .map((access) => ({ channel, user, access, where, allowed: expected(user, access, channel, target) }));
    }),
  ),
);

describe('the embedded and the Mosquitto ACL', () => {
  it.each(cases)('$user may $access $where ($channel): $allowed on both brokers', ({ user, access, where, allowed }) => {
    const id = identities[user]!;
    const embedded = access === 'publish' ? mayPublish(id, where) : maySubscribe(id, where);
    const mosquitto = mosquittoAllows(acl, user, access === 'publish' ? 'write' : 'read', where);
    expect({ embedded, mosquitto }).toEqual({ embedded: allowed, mosquitto: allowed });
  });
});

/**
 * Home Assistant's topics (HA_CHANNELS, docs/home-assistant.md) under a
 * non-default discovery prefix, with Approve buttons off and on: the hub
 * publishes discovery configs and hears HA's status; HA reads its prefix and
 * publishes only its status, and Approve presses only when enabled; nobody
 * else gets anything there.
 */
describe.each([false, true])('the Home Assistant topics on both brokers (Approve buttons %s)', (approveButtons) => {
  const ha = { discoveryPrefix: 'ha/disc', approveButtons };
  const haAcl = mosquittoFiles(creds, { maxPayloadBytes: 1000, homeAssistant: ha }).acl;
  const config = 'ha/disc/binary_sensor/homelab_piha/zigbee2mqtt_problem/config';
  const approve = 'homelab/v1/ha/approve';
  const rows: Array<[string, 'publish' | 'subscribe', string, boolean]> = [
    [HUB_CLIENT_ID, 'publish', config, true],
    [HUB_CLIENT_ID, 'subscribe', 'ha/disc/status', true],
    [HUB_CLIENT_ID, 'subscribe', 'ha/disc/+/+/+/config', true],
    [HUB_CLIENT_ID, 'subscribe', 'ha/disc/#', false],
    [HUB_CLIENT_ID, 'publish', 'ha/disc/status', false],
    [HUB_CLIENT_ID, 'publish', 'homeassistant/binary_sensor/homelab_piha/x/config', false],
    ['ha', 'publish', 'ha/disc/status', true],
    ['ha', 'subscribe', 'ha/disc/#', true],
    ['ha', 'subscribe', filterOf('nodeState'), true],
    ['ha', 'subscribe', topicOf('serviceState', 'piha', 'z2m'), true],
    ['ha', 'publish', approve, approveButtons],
    ['ha', 'publish', config, false],
    ['ha', 'publish', 'ha/disc/button/homelab_piha/x/config', false],
    ['ha', 'publish', topicOf('serviceState', 'piha', 'z2m'), false],
    ['ha', 'publish', topicOf('events', 'piha'), false],
    ['ha', 'publish', 'ha/status', false],
    ['ha', 'subscribe', 'homelab/#', false],
    ['ha', 'subscribe', '#', false],
    ['ha', 'subscribe', 'ha/#', false],
    ['ha', 'subscribe', filterOf('commands'), false],
    ['ha', 'subscribe', approve, false],
    ['piha', 'publish', 'ha/disc/status', false],
    ['piha', 'publish', approve, false],
    ['piha', 'publish', config, false],
    ['piha', 'subscribe', 'ha/disc/#', false],
    ['ops', 'publish', approve, false],
    ['ops', 'publish', 'ha/disc/status', false],
  ];
  it.each(rows)('%s may %s %s: %s on both brokers', (user, access, where, allowed) => {
    const id = identities[user]!;
    const embedded = access === 'publish' ? mayPublish(id, where, ha) : maySubscribe(id, where, ha);
    const mosquitto = mosquittoAllows(haAcl, user, access === 'publish' ? 'write' : 'read', where);
    expect({ embedded, mosquitto }).toEqual({ embedded: allowed, mosquitto: allowed });
  });
});
