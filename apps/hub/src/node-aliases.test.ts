import { describe, expect, it } from 'vitest';
import type { Command, CommandResult, DesiredStateMessage, HostServicesFile } from '@homelab/contracts';
import { topics } from '@homelab/contracts';
import { AgentRoutes } from './agent-routes';
import { resolveHubConfig } from './config';
import { DesiredPublisher } from './desired-publisher';
import { NodeAliases } from './node-aliases';

const aliases = new NodeAliases({ 'node-x': 'piha', constructor: 'chelsty-ha', 'old-ha': 'chelsty-ha' });

describe('NodeAliases lookups', () => {
  it.each([
    ['an alias', 'node-x', 'piha'],
    ['a node named constructor that is an alias', 'constructor', 'chelsty-ha'],
    ['a canonical name', 'piha', 'piha'],
    ['a name not in the map', 'nas', 'nas'],
    ['__proto__', '__proto__', '__proto__'],
    ['toString', 'toString', 'toString'],
    ['hasOwnProperty', 'hasOwnProperty', 'hasOwnProperty'],
    ['valueOf', 'valueOf', 'valueOf'],
  ])('resolves %s to a node name', (_what, node, canonical) => {
    expect(aliases.canonical(node)).toBe(canonical);
    expect(NodeAliases.none.canonical(node)).toBe(node);
  });

  it.each(['constructor', '__proto__', 'toString'])('finds no aliases of %s when the map has none for it', (node) => {
    expect(NodeAliases.none.aliasesOf(node)).toEqual([]);
    expect(NodeAliases.none.agentNames(node)).toEqual([node]);
    expect(new NodeAliases({ 'node-x': 'piha' }).aliasesOf(node)).toEqual([]);
  });

  it('lists the aliases of a canonical node, sorted, after the name itself', () => {
    expect(aliases.aliasesOf('chelsty-ha')).toEqual(['constructor', 'old-ha']);
    expect(aliases.agentNames('piha')).toEqual(['piha', 'node-x']);
  });
});

describe('NODE_ALIAS_MAP at config load', () => {
  const load = (map: string) => resolveHubConfig({}, { NODE_ALIAS_MAP: map }).aliases;

  it('accepts any valid node name, constructor included, and looks up only what the map holds', () => {
    const map = load('{"constructor":"piha","node-x":"piha"}');
    expect(map).toEqual({ constructor: 'piha', 'node-x': 'piha' });
    expect(new NodeAliases(map).canonical('constructor')).toBe('piha');
    expect(new NodeAliases(load('{"node-x":"piha"}')).canonical('constructor')).toBe('constructor');
  });

  it.each([
    ['not JSON', '{node-x: piha}', /must be a JSON object/],
    ['__proto__ as a name', '{"__proto__":"piha"}', /__proto__ is not a node name/],
    ['toString as a name (not a node name)', '{"toString":"piha"}', /NODE_ALIAS_MAP/],
    ['an alias to an alias', '{"a":"b","b":"c"}', /b is an alias too \(→ c\); map a to the final name/],
    ['a name mapped to itself', '{"piha":"piha"}', /maps piha to itself/],
    ['a canonical name that is no node name', '{"node-x":"Piha/1"}', /NODE_ALIAS_MAP/],
  ])('refuses %s with a clear reason', (_what, map, reason) => {
    expect(() => load(map)).toThrow(reason);
  });
});

describe('AgentRoutes', () => {
  const cmd = (node: string): Command => ({
    actionId: `container-restart-${node}-z2m`,
    node,
    type: 'container_restart',
    service: 'z2m',
    issuedAt: '2026-11-26T15:00:00.000Z',
    deadline: '2026-11-26T15:02:00.000Z',
  });
  const online = (node: string) => Buffer.from(JSON.stringify({ node, state: 'online', session: 1, ts: '2026-11-26T15:00:00.000Z' }));

  it('sends a canonical node’s command to its only alias, addressed to it', () => {
    const routes = new AgentRoutes(new NodeAliases({ 'node-x': 'piha' }));
    expect(routes.route(cmd('piha'))).toEqual({ topic: topics.commands('node-x'), command: { ...cmd('piha'), node: 'node-x' } });
  });

  it('leaves commands alone without aliases, constructor included', () => {
    const routes = new AgentRoutes(NodeAliases.none);
    for (const node of ['piha', 'constructor']) expect(routes.route(cmd(node))).toEqual({ topic: topics.commands(node), command: cmd(node) });
    const withMap = new AgentRoutes(new NodeAliases({ 'node-x': 'piha' }));
    expect(withMap.route(cmd('constructor')).topic).toBe(topics.commands('constructor'));
  });

  it('follows the name whose agent spoke last when several map to one node', () => {
    const routes = new AgentRoutes(new NodeAliases({ 'old-ha': 'chelsty-ha', 'new-ha': 'chelsty-ha' }));
    expect(routes.agentFor('chelsty-ha')).toBe('chelsty-ha'); // nobody heard yet, no single alias
    routes.heard(topics.status('new-ha'), online('new-ha'));
    expect(routes.agentFor('chelsty-ha')).toBe('new-ha');
    routes.heard(topics.status('old-ha'), Buffer.from(JSON.stringify({ node: 'old-ha', state: 'offline', session: 3, ts: '2026-11-26T15:00:00.000Z' })));
    expect(routes.agentFor('chelsty-ha')).toBe('new-ha'); // a last will is no sign of life
    routes.heard(topics.events('old-ha'), Buffer.from('{}'));
    expect(routes.agentFor('chelsty-ha')).toBe('old-ha');
    routes.heard(topics.status('chelsty-ha'), online('chelsty-ha'));
    expect(routes.route(cmd('chelsty-ha')).topic).toBe(topics.commands('chelsty-ha'));
  });

  it('hands the executor results under the canonical node', () => {
    const routes = new AgentRoutes(new NodeAliases({ 'node-x': 'piha' }));
    const r: CommandResult = {
      actionId: 'a',
      node: 'node-x',
      status: 'completed',
      startedAt: '2026-11-26T15:00:00.000Z',
      finishedAt: '2026-11-26T15:00:01.000Z',
      output: '',
    };
    expect(routes.canonicalResult(r)).toEqual({ ...r, node: 'piha' });
    expect(routes.canonicalResult({ ...r, node: 'constructor' }).node).toBe('constructor');
  });
});

describe('DesiredPublisher with aliases', () => {
  const piha: HostServicesFile = { node: 'piha', services: { zigbee2mqtt: { monitor: true } } };
  const now = new Date('2026-11-26T15:00:00.000Z');

  it('gives a node the hub heard from but that has no services.yaml an empty service list, once', async () => {
    const out: [string, DesiredStateMessage][] = [];
    const pub = new DesiredPublisher(async (t, p) => void out.push([t, p]), new NodeAliases({ 'node-x': 'piha' }));
    expect(await pub.sync({}, now, ['nas', 'piha'])).toBe(3);
    expect(out.map(([t, p]) => [t, p.node, p.services])).toEqual([
      [topics.desired('nas'), 'nas', {}],
      [topics.desired('node-x'), 'node-x', {}],
      [topics.desired('piha'), 'piha', {}],
    ]);
    expect(await pub.sync({}, now, ['nas', 'piha'])).toBe(0);
  });

  it('publishes a canonical node’s desired state on each alias’s topic too, addressed to that agent', async () => {
    const out: [string, DesiredStateMessage][] = [];
    const pub = new DesiredPublisher(async (t, p) => void out.push([t, p]), new NodeAliases({ 'node-x': 'piha', 'node-y': 'nas' }));
    expect(await pub.sync({ piha }, now)).toBe(2);
    expect(out.map(([t, p]) => [t, p.node, Object.keys(p.services)])).toEqual([
      [topics.desired('node-x'), 'node-x', ['zigbee2mqtt']],
      [topics.desired('piha'), 'piha', ['zigbee2mqtt']],
    ]);
    expect(out[0]![1].revision).toBe(out[1]![1].revision);
    // Unchanged: nothing sent again. Dropped: every name gets an empty list.
    expect(await pub.sync({ piha }, now)).toBe(0);
    out.length = 0;
    expect(await pub.sync({}, now)).toBe(2);
    expect(out.map(([t, p]) => [t, p.node, p.services])).toEqual([
      [topics.desired('node-x'), 'node-x', {}],
      [topics.desired('piha'), 'piha', {}],
    ]);
  });

  it('publishes a node named constructor like any other', async () => {
    const out: string[] = [];
    const pub = new DesiredPublisher(async (t) => void out.push(t));
    await pub.sync({ constructor: { node: 'constructor', services: {} }, piha }, now);
    expect(out).toEqual([topics.desired('constructor'), topics.desired('piha')]);
  });
});
