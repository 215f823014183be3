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

const users: Record<string, Role> = { piha: 'node', 'chelsty-ha': 'node', [HUB_CLIENT_ID]: 'hub', ops: 'inspector' };
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
};

/**
 * What the channel table says each role may do: a node publishes its own
 * channels `from` node and subscribes to its own channels `to` node, never
 * another node's and never every node's; the hub publishes and subscribes
 * every channel; an inspector reads every channel and publishes none.
 */
function expected(user: string, access: 'publish' | 'subscribe', channel: ChannelName, target: 'own' | 'other' | 'every'): boolean {
  if (users[user] === 'hub') return true;
  if (users[user] === 'inspector') return access === 'subscribe';
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
