import type { World, WorldNode, WorldService } from '@homelab/contracts';
import type { z } from 'zod';
import type { WorldDiff } from './world-at-api';

type ServiceFacts = z.infer<typeof WorldDiff>['services']['changed'][number]['before'];
type NodeFacts = z.infer<typeof WorldDiff>['nodes']['changed'][number]['before'];

const serviceFacts = (s: WorldService): ServiceFacts => ({ status: s.status, ...(s.reason ? { reason: s.reason } : {}), since: s.since });
const nodeFacts = (n: WorldNode): NodeFacts => ({
  online: n.online,
  dockerReachable: n.dockerReachable,
  disks: Object.fromEntries(Object.entries(n.disks).map(([m, d]) => [m, d.level])),
});
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function diffMaps<T, F>(before: Record<string, T>, after: Record<string, T>, facts: (v: T) => F) {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const out = { added: [] as { key: string; after: F }[], removed: [] as { key: string; before: F }[], changed: [] as { key: string; before: F; after: F }[] };
  for (const key of keys) {
    const a = Object.hasOwn(before, key) ? facts(before[key]!) : undefined;
    const b = Object.hasOwn(after, key) ? facts(after[key]!) : undefined;
    if (a === undefined && b !== undefined) out.added.push({ key, after: b });
    else if (a !== undefined && b === undefined) out.removed.push({ key, before: a });
    else if (a !== undefined && b !== undefined && !same(a, b)) out.changed.push({ key, before: a, after: b });
  }
  return out;
}

/**
 * What changed between two worlds, in the terms an operator asks about: a
 * service's health (status, reason, since), a node's connection, Docker and
 * disk levels. Counters and last-seen times are left out: they move with
 * every heartbeat.
 */
export function diffWorlds(before: World, after: World): Omit<z.infer<typeof WorldDiff>, 'from' | 'to'> {
  return { services: diffMaps(before.services, after.services, serviceFacts), nodes: diffMaps(before.nodes, after.nodes, nodeFacts) };
}
