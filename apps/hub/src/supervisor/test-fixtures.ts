import type { Action, HostServicesFile, World, WorldNode, WorldService } from '@homelab/contracts';
import { agentRevision } from '../desired/revision';
import type { ReconcileInput } from './reconcile';

/** Builders for reconcile and supervisor tests. */
export const T0 = '2026-11-26T14:02:00.000Z';
export const NOW = new Date('2026-11-26T15:00:00.000Z');

export function host(node: string, services: Record<string, Partial<HostServicesFile['services'][string]>>): HostServicesFile {
  return { node, services: Object.fromEntries(Object.entries(services).map(([k, v]) => [k, { monitor: true, ...v }])) };
}

export function worldNode(node: string, over: Partial<WorldNode> = {}): WorldNode {
  return { node, online: true, session: 1, statusSince: T0, lastSeen: T0, lastSeq: 10, dockerReachable: true, disks: {}, ...over };
}

export function healthy(node: string, service: string, over: Partial<WorldService> = {}): WorldService {
  return { node, service, status: 'healthy', since: T0, lastSeen: T0, lastEventId: `${node}-1`, lastSeq: 1, problemEventIds: [], ...over };
}

export function unhealthy(node: string, service: string, reason: string | undefined, over: Partial<WorldService> = {}): WorldService {
  return healthy(node, service, {
    status: 'unhealthy',
    ...(reason ? { reason } : {}),
    problemEventIds: [`${node}-7`, `${node}-8`, `${node}-9`],
    ...over,
  });
}

export function world(nodes: WorldNode[], services: WorldService[]): World {
  return {
    nodes: Object.fromEntries(nodes.map((n) => [n.node, n])),
    services: Object.fromEntries(services.map((s) => [`${s.node}/${s.service}`, s])),
  };
}

export function action(id: string, over: Partial<Action> = {}): Action {
  const type = id.startsWith('redeploy') ? 'redeploy' : id.startsWith('disk') ? 'disk_cleanup' : 'container_restart';
  return {
    id,
    type,
    risk: type === 'container_restart' ? 'low' : 'guarded',
    node: 'piha',
    service: 'zigbee2mqtt',
    state: 'pending',
    drift: { type: 'unhealthy_service', reason: 'containers_not_running', eventIds: [], firstSeen: T0 },
    summary: 'test',
    createdAt: T0,
    updatedAt: T0,
    audit: [{ at: T0, state: 'pending', by: 'supervisor', via: 'supervisor' }],
    ...over,
  };
}

/** A container restart of piha/zigbee2mqtt that ended (completed unless told) at `endedAt`, created a minute before. */
export function restartEnded(endedAt: string, over: Partial<Action> = {}): Action {
  const created = new Date(Date.parse(endedAt) - 60_000).toISOString();
  return action('container-restart-piha-zigbee2mqtt', { state: 'completed', createdAt: created, updatedAt: endedAt, ...over });
}

/** `NOW` minus `minutes`, as ISO text. */
export function minutesAgo(minutes: number): string {
  return new Date(NOW.getTime() - minutes * 60_000).toISOString();
}

/**
 * The world once each node's agent has sent its complete scan of `desired` in
 * the node's current session, every event of that session from seq 1: a node
 * in steady state. A node that sets `inventory` itself (even to undefined) keeps it.
 */
export function inventoried(w: World, desired: Record<string, HostServicesFile>, aliases: Record<string, string> = {}): World {
  const nodes: Record<string, WorldNode> = {};
  for (const [name, n] of Object.entries(w.nodes)) {
    const host = desired[aliases[name] ?? name];
    nodes[name] =
      Object.hasOwn(n, 'inventory') || !host ? n : { ...n, inventory: { session: n.session ?? 0, desiredRevision: agentRevision(host), sessionFromSeq: 1 } };
  }
  return { ...w, nodes };
}

/** A reconcile input whose nodes have reported on its desired state (see inventoried). */
export function reported(input: ReconcileInput): ReconcileInput {
  return { ...input, world: inventoried(input.world, input.desired, input.aliases) };
}
