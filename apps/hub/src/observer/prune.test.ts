import { describe, expect, it } from 'vitest';
import type { World, WorldNode, WorldService } from '@homelab/contracts';
import { prune, type DesiredView, type PruneOptions } from './prune';

const T = Date.parse('2026-03-10T12:00:00.000Z');
const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const iso = (offsetMs: number) => new Date(T + offsetMs).toISOString();

function node(name: string, lastSeenAgo: number | null, over: Partial<WorldNode> = {}): WorldNode {
  return {
    node: name,
    online: true,
    session: 1,
    statusSince: null,
    lastSeen: lastSeenAgo === null ? null : iso(-lastSeenAgo),
    lastSeq: 1,
    dockerReachable: true,
    disks: {},
    ...over,
  };
}
function svc(nodeName: string, service: string, lastSeenAgo: number): WorldService {
  return { node: nodeName, service, status: 'healthy', since: iso(-DAY), lastSeen: iso(-lastSeenAgo), lastEventId: 'x', lastSeq: 1, problemEventIds: [] };
}
function world(nodes: WorldNode[], services: WorldService[]): World {
  return {
    nodes: Object.fromEntries(nodes.map((n) => [n.node, n])),
    services: Object.fromEntries(services.map((s) => [`${s.node}/${s.service}`, s])),
    folded: { piha: 1 },
  };
}

const TTL: PruneOptions = { serviceTtlMs: 60 * MIN, nodeTtlMs: 7 * DAY };
const desired: DesiredView = { piha: { services: { z2m: {}, legacy: { monitor: false } } }, 'chelsty-ha': { services: {} } };

type Case = [what: string, w: World, opts: PruneOptions, nodes: string[], services: string[]];
const cases: Case[] = [
  [
    'a service its node stopped reporting more than the TTL ago',
    world([node('piha', 0)], [svc('piha', 'z2m', 61 * MIN), svc('piha', 'ha', 0)]),
    TTL,
    [],
    ['piha/z2m'],
  ],
  ['nothing when the service is within the TTL of its node', world([node('piha', 0)], [svc('piha', 'z2m', 59 * MIN)]), TTL, [], []],
  ['nothing at exactly the TTL', world([node('piha', 0)], [svc('piha', 'z2m', 60 * MIN)]), TTL, [], []],
  ['nothing for a desired, monitored service', world([node('piha', 0)], [svc('piha', 'z2m', 5 * DAY)]), { ...TTL, desired }, [], []],
  [
    'a desired service with monitor: false (the agent no longer watches it)',
    world([node('piha', 0)], [svc('piha', 'legacy', 2 * DAY)]),
    { ...TTL, desired },
    [],
    ['piha/legacy'],
  ],
  [
    'nothing while the node cannot reach Docker (it cannot report any service)',
    world([node('piha', 0, { dockerReachable: false })], [svc('piha', 'z2m', 2 * DAY)]),
    TTL,
    [],
    [],
  ],
  [
    'a node silent for longer than the node TTL before the newest event, with its services',
    world([node('piha', 0), node('old-name', 8 * DAY)], [svc('old-name', 'z2m', 8 * DAY), svc('piha', 'z2m', 0)]),
    TTL,
    ['old-name'],
    ['old-name/z2m'],
  ],
  ['nothing for a silent node that has a services.yaml', world([node('piha', 0), node('chelsty-ha', 8 * DAY)], []), { ...TTL, desired }, [], []],
  [
    'a node heard only on its status topic, by the time of that status',
    world([node('piha', 0), node('ghost', null, { statusSince: iso(-8 * DAY) })], []),
    TTL,
    ['ghost'],
    [],
  ],
  ['nothing for a node heard recently on its status topic', world([node('piha', 0), node('quiet', 9 * DAY, { statusSince: iso(-MIN) })], []), TTL, [], []],
  [
    'nothing when the whole fleet went quiet together (ages count from the newest event, not from now)',
    world([node('piha', 30 * DAY), node('nas', 30 * DAY + MIN)], [svc('piha', 'z2m', 30 * DAY)]),
    TTL,
    [],
    [],
  ],
  [
    'nothing with both TTLs 0 (pruning disabled)',
    world([node('piha', 0), node('old', 100 * DAY)], [svc('piha', 'z2m', 100 * DAY)]),
    { serviceTtlMs: 0, nodeTtlMs: 0 },
    [],
    [],
  ],
];

describe('prune', () => {
  it.each(cases)('prunes %s', (_what, w, opts, nodes, services) => {
    const res = prune(w, opts);
    expect(res.nodes).toEqual(nodes);
    expect(res.services).toEqual(services);
    expect(Object.keys(res.world.nodes).sort()).toEqual(
      Object.keys(w.nodes)
        .filter((n) => !nodes.includes(n))
        .sort(),
    );
    expect(Object.keys(res.world.services).sort()).toEqual(
      Object.keys(w.services)
        .filter((s) => !services.includes(s))
        .sort(),
    );
    expect(res.world.folded).toEqual(w.folded);
  });

  it('returns copies: later folds into the input do not change the view', () => {
    const w = world([node('piha', 0)], [svc('piha', 'z2m', 0)]);
    const view = prune(w, TTL).world;
    w.services['piha/z2m']!.problemEventIds.push('piha-9');
    w.nodes.piha!.lastSeq = 9;
    w.folded!.piha = 9;
    expect(view.services['piha/z2m']!.problemEventIds).toEqual([]);
    expect(view.nodes.piha!.lastSeq).toBe(1);
    expect(view.folded).toEqual({ piha: 1 });
  });

  it('keeps names that collide with Object.prototype as plain entries', () => {
    const w = world([], []);
    for (const name of ['constructor', '__proto__']) Object.defineProperty(w.nodes, name, { value: node(name, 0), enumerable: true });
    const view = prune(w, TTL).world;
    expect(Object.hasOwn(view.nodes, '__proto__') && Object.hasOwn(view.nodes, 'constructor')).toBe(true);
    expect(Object.getPrototypeOf(view.nodes)).toBe(Object.prototype);
  });
});
