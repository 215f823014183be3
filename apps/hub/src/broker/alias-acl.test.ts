import { describe, expect, it } from 'vitest';
import { topics, type Command } from '@homelab/contracts';
import { AgentRoutes } from '../agent-routes';
import { DesiredPublisher } from '../desired-publisher';
import { NodeAliases } from '../node-aliases';
import { identify, mayPublish, maySubscribe } from './acl';
import type { CredentialsFile } from './credentials';
import { mosquittoFiles } from './mosquitto-config';

/**
 * Under NODE_ALIAS_MAP the agent `node-x` of canonical node `piha` must be
 * reachable on both brokers (docs/node-aliases.md): every topic the hub
 * addresses it on is one its identity may read, on the embedded broker
 * (acl.ts) and on Mosquitto (the ACL `homelab broker-config` writes), and it
 * writes only under its own name.
 */
const aliases = new NodeAliases({ 'node-x': 'piha' });
const creds = {
  version: 1,
  users: { 'node-x': { role: 'node', scrypt: 'x', mosquitto: 'x', createdAt: '2026-11-26T15:00:00.000Z' } },
} as unknown as CredentialsFile;

/** The topics Mosquitto's ACL grants `user` for `access` (exact topics; node identities get no wildcards). */
function mosquittoGrants(user: string, access: 'read' | 'write'): string[] {
  const lines = mosquittoFiles(creds, { maxPayloadBytes: 1000 }).acl.split('\n');
  const start = lines.indexOf(`user ${user}`);
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('topic ')) break;
    const [, mode, topic] = line.split(' ');
    if (mode === access || mode === 'readwrite') out.push(topic!);
  }
  return out;
}

async function topicsTheHubAddresses(): Promise<string[]> {
  const desired: string[] = [];
  await new DesiredPublisher(async (t) => void desired.push(t), aliases).sync({ piha: { node: 'piha', services: {} } }, new Date('2026-11-26T15:00:00.000Z'));
  const cmd: Command = {
    actionId: 'container-restart-piha-z2m',
    node: 'piha',
    type: 'container_restart',
    service: 'z2m',
    issuedAt: '2026-11-26T15:00:00.000Z',
    deadline: '2026-11-26T15:02:00.000Z',
  };
  const command = new AgentRoutes(aliases).route(cmd).topic;
  // Acks follow the stream the events came in on: the agent's own name (ingest.ts).
  return [...desired.filter((t) => t.includes('/node-x/')), command, topics.acks('node-x')];
}

describe('ACL for an agent known by an alias', () => {
  const nodeX = identify('node-x', 'node-x');

  it('lets the agent read, on both brokers, every topic the hub sends it desired state, commands and acks on', async () => {
    const addressed = await topicsTheHubAddresses();
    expect(addressed).toEqual([topics.desired('node-x'), topics.commands('node-x'), topics.acks('node-x')]);
    const mosquittoReads = mosquittoGrants('node-x', 'read');
    for (const t of addressed) {
      expect(maySubscribe(nodeX, t), `embedded: ${t}`).toBe(true);
      expect(mosquittoReads, `mosquitto: ${t}`).toContain(t);
    }
  });

  it('grants the same topics on both brokers, and nothing of the canonical node', () => {
    const channels = ['status', 'events', 'results', 'commands', 'desired', 'acks'] as const;
    for (const node of ['node-x', 'piha']) {
      for (const ch of channels) {
        const t = `homelab/v1/nodes/${node}/${ch}`;
        expect(mosquittoGrants('node-x', 'write').includes(t), `write ${t}`).toBe(mayPublish(nodeX, t));
        expect(mosquittoGrants('node-x', 'read').includes(t), `read ${t}`).toBe(maySubscribe(nodeX, t));
        if (node === 'piha') expect(mayPublish(nodeX, t) || maySubscribe(nodeX, t)).toBe(false);
      }
    }
  });
});
