import type { World, WorldNode } from '@homelab/contracts';

/**
 * Ghost pruning of the world VIEW (world files, `observer.world()`); the fold
 * itself keeps everything, so a ghost that comes back folds exactly as in a
 * replay. Every input is folded data or configuration, never the wall clock:
 * ages are measured against the newest receive time in the world, so the same
 * log and settings always give the same bytes, and a hub that was down for a
 * month prunes nothing when it starts (the log did not move on).
 */
export interface PruneOptions {
  /**
   * A service whose latest event is older than its node's latest event by
   * more than this is a ghost: the agent repeats every watched service every
   * 30 s, so the node stopped reporting it (removed from its desired state,
   * container gone from the watch list). 0 disables.
   */
  serviceTtlMs: number;
  /** A node not heard from for this long before the newest event of the whole world is gone, with its services. 0 disables. */
  nodeTtlMs: number;
  /** Desired state in force (canonical node → services): monitored desired services, and nodes with a services.yaml, are never pruned. */
  desired?: DesiredView | undefined;
}

/** The part of the desired state pruning needs (the supervisor's DesiredState fits). */
export type DesiredView = Readonly<Record<string, { services: Readonly<Record<string, { monitor?: boolean }>> }>>;

export const DEFAULT_SERVICE_TTL_MS = 60 * 60_000;
export const DEFAULT_NODE_TTL_MS = 7 * 24 * 60 * 60_000;

export interface PruneResult {
  world: World;
  /** Node names pruned, sorted. */
  nodes: string[];
  /** Service keys (`node/service`) pruned, those of pruned nodes included, sorted. */
  services: string[];
}

const time = (iso: string | null | undefined): number | null => {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
};

/** Latest time the hub heard of the node: its own events (rx) or its status topic (hub time). */
function heard(n: WorldNode): number | null {
  const a = time(n.lastSeen);
  const b = time(n.statusSince);
  return a === null ? b : b === null ? a : Math.max(a, b);
}

function isDesiredService(desired: DesiredView | undefined, node: string, service: string): boolean {
  const host = desired && Object.hasOwn(desired, node) ? desired[node] : undefined;
  const spec = host && Object.hasOwn(host.services, service) ? host.services[service] : undefined;
  return spec !== undefined && spec.monitor !== false;
}

/** Own properties only: names come from events and may be `constructor` or `__proto__`. */
function put<T>(rec: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(rec, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Pure: the world without its ghosts. Returns copies (structuredClone) of the
 * kept entries, so the fold can go on mutating its own objects while callers
 * hold the view.
 */
export function prune(world: World, opts: PruneOptions): PruneResult {
  const { serviceTtlMs, nodeTtlMs, desired } = opts;
  let newest: number | null = null;
  for (const n of Object.values(world.nodes)) {
    const h = heard(n);
    if (h !== null && (newest === null || h > newest)) newest = h;
  }

  const gone = new Set<string>();
  const out: World = { services: {}, nodes: {}, ...(world.folded ? { folded: { ...world.folded } } : {}) };
  for (const [name, n] of Object.entries(world.nodes)) {
    const h = heard(n);
    const keep = nodeTtlMs <= 0 || h === null || newest === null || newest - h <= nodeTtlMs || (desired !== undefined && Object.hasOwn(desired, name));
    if (keep) put(out.nodes, name, structuredClone(n));
    else gone.add(name);
  }

  const prunedServices: string[] = [];
  for (const [key, s] of Object.entries(world.services)) {
    if (gone.has(s.node)) {
      prunedServices.push(key);
      continue;
    }
    const node = Object.hasOwn(world.nodes, s.node) ? world.nodes[s.node] : undefined;
    const nodeSeen = time(node?.lastSeen);
    const seen = time(s.lastSeen);
    const ghost =
      serviceTtlMs > 0 &&
      nodeSeen !== null &&
      seen !== null &&
      nodeSeen - seen > serviceTtlMs &&
      // While Docker is unreachable the agent cannot report any service: silence is not removal.
      node?.dockerReachable !== false &&
      !isDesiredService(desired, s.node, s.service);
    if (ghost) prunedServices.push(key);
    else put(out.services, key, structuredClone(s));
  }
  return { world: out, nodes: [...gone].sort(), services: prunedServices.sort() };
}
