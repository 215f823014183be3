import { HUB_STREAM, serviceKey, type HomelabEvent, type NodeClock, type StoredEvent, type World, type WorldNode, type WorldService } from '@homelab/contracts';
import { hubTimeOf, observeClock } from './clock-offset';

export interface FoldOptions {
  /** NODE_ALIAS_MAP: event node name → canonical node name. */
  aliases: Record<string, string>;
}

/**
 * While a service is unhealthy, `problemEventIds` keeps the first few events
 * of the occurrence (what opened it) and the latest ones (what keeps it open),
 * 50 in all to match `Drift.eventIds`.
 */
export const PROBLEM_IDS_HEAD = 10;
export const PROBLEM_IDS_MAX = 50;

type StatusEvent = Extract<HomelabEvent, { type: 'node_online' | 'node_offline' }>;

// Records keyed by names from events: never let a key like `constructor` read
// an inherited property, or `__proto__` replace a prototype.
const own = <T>(rec: Record<string, T>, key: string): T | undefined => (Object.hasOwn(rec, key) ? rec[key] : undefined);
function setOwn<T>(rec: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(rec, key, { value, enumerable: true, writable: true, configurable: true });
  else rec[key] = value;
}

/** The stream an event is stored in when the caller does not say: status events come from the hub. */
export function defaultStream(event: HomelabEvent): string {
  return event.type === 'node_online' || event.type === 'node_offline' ? HUB_STREAM : event.node;
}

export const canonicalNode = (node: string, aliases: Record<string, string>): string => own(aliases, node) ?? node;

/** True when `world` already contains this event (its seq is at or below the stream's folded high-water). */
export function isFolded(world: World, stream: string, seq: number): boolean {
  const high = world.folded ? own(world.folded, stream) : undefined;
  return high !== undefined && seq <= high;
}

/**
 * Folds one stored event into the world. For speed on replays of millions of
 * events it MUTATES `world` (which the caller owns) and returns it; an event
 * already folded returns it untouched. Pure otherwise: no I/O, no clock; every
 * value written comes from the event, so a replay gives the same bytes.
 *
 * Streams touch disjoint parts of the world: a node's own stream sets
 * everything but the online status, which only the hub stream sets (from the
 * status topic). So the result does not depend on how streams interleave.
 */
export function fold(world: World, stored: StoredEvent, opts: FoldOptions, stream: string = defaultStream(stored.event)): World {
  const e = stored.event;
  if (isFolded(world, stream, e.seq)) return world;
  const folded = (world.folded ??= {});
  setOwn(folded, stream, e.seq);
  const node = ensureNode(world, canonicalNode(e.node, opts.aliases));
  if (stream === HUB_STREAM) {
    // The hub stream only carries status events; anything else there is not ours to trust.
    if (e.type === 'node_online' || e.type === 'node_offline') foldStatus(node, e);
    return world;
  }
  node.lastSeen = stored.rx;
  node.lastSeq = e.seq;
  // The periodic repeats of service states (most of a log) are not clock samples unless they change
  // the status: every other event is sample enough, and two time parses per event would cost a
  // replay a fifth of its speed (docs/benchmarks.md, "Replay").
  const repeat = isServiceRepeat(e);
  const clock = repeat ? undefined : sampleClock(node, stream, stored);
  switch (e.type) {
    case 'service_healthy':
    case 'service_recovered':
    case 'service_starting':
    case 'service_unhealthy':
      foldService(world, node, stream, stored, clock);
      break;
    case 'disk_pressure':
    case 'disk_ok': {
      // Mounts are absolute paths (MountPath), so never a key like `__proto__`.
      const level = e.type === 'disk_ok' ? 'ok' : e.data.level;
      const prev = own(node.disks, e.data.mount);
      setOwn(node.disks, e.data.mount, {
        mount: e.data.mount,
        level,
        usedPercent: e.data.usedPercent,
        since: prev && prev.level === level ? prev.since : hubTimeOf(clock, e.ts),
      });
      break;
    }
    case 'node_heartbeat':
      if (e.data) {
        const m: Record<string, number> = {};
        for (const [k, v] of Object.entries(e.data)) if (typeof v === 'number') m[k] = v;
        node.metrics = m;
      }
      break;
    case 'docker_unreachable':
    case 'docker_reachable':
      node.dockerReachable = e.type === 'docker_reachable';
      break;
    case 'node_inventory':
      node.unmanaged = e.data.unmanaged;
      if (e.data.truncated) node.unmanagedTruncated = true;
      else delete node.unmanagedTruncated;
      // Only a report that follows a complete scan moves it (docs/supervisor.md, "First contact").
      if (e.data.scan) node.inventory = { ...e.data.scan };
      break;
    case 'events_dropped':
      // The agent's outbox overflowed while the hub was out of reach: a known gap, shown to the operator.
      node.droppedEvents = (node.droppedEvents ?? 0) + e.data.count;
      break;
    case 'node_online':
    case 'node_offline':
      // From an agent's own stream: its status comes from the status topic (hub stream), not from itself.
      break;
  }
  return world;
}

function isServiceRepeat(e: HomelabEvent): boolean {
  return (e.type === 'service_healthy' || e.type === 'service_recovered' || e.type === 'service_unhealthy') && e.data?.heartbeat === true;
}

/**
 * Adds the event's clock sample (`rx − ts`, rx being the receive stamp the hub
 * stored with it: pure, so a replay measures the same) to the clock of its
 * stream. Per stream, not per canonical node: two aliased agents have two
 * clocks, and the result must not depend on how their streams interleave.
 */
function sampleClock(node: WorldNode, stream: string, stored: StoredEvent): NodeClock | undefined {
  const clocks = (node.clocks ??= {});
  const clock = observeClock(own(clocks, stream), Date.parse(stored.rx), Date.parse(stored.event.ts));
  if (clock) setOwn(clocks, stream, clock);
  return clock;
}

function ensureNode(world: World, name: string): WorldNode {
  const have = own(world.nodes, name);
  if (have) return have;
  const node: WorldNode = { node: name, online: null, session: null, statusSince: null, lastSeen: null, lastSeq: null, dockerReachable: null, disks: {} };
  setOwn(world.nodes, name, node);
  return node;
}

/**
 * A later session wins; within a session a later connection wins (a network
 * blip keeps the session, and the dropped connection's will must not hide the
 * next connection's birth: docs/mqtt.md "Status ordering"); within one
 * connection offline wins over online, so a will delivered late can never
 * leave a dead node online and a stale birth can never revive it.
 * `statusSince` moves only when the status is replaced.
 */
function foldStatus(node: WorldNode, e: StatusEvent): void {
  const offline = e.type === 'node_offline';
  const s = e.data.session;
  const c = e.data.connection ?? 0;
  // A birth announcing a backlog: the node is catching up until its own stream
  // reaches this seq (a max, so independent of how streams interleave).
  if (e.type === 'node_online' && e.data.backlogUntilSeq !== undefined) {
    node.backlogUntilSeq = Math.max(node.backlogUntilSeq ?? 0, e.data.backlogUntilSeq);
  }
  if (!isNewerStatus(node, s, c, offline)) return;
  node.online = !offline;
  node.session = s;
  if (c > 0) node.connection = c;
  else delete node.connection;
  node.statusSince = e.ts;
}

/** Orders status messages by (session, connection), offline last within one connection. */
export function isNewerStatus(node: Pick<WorldNode, 'session' | 'connection' | 'online'>, session: number, connection: number, offline: boolean): boolean {
  if (node.session === null || session > node.session) return true;
  if (session < node.session) return false;
  const have = node.connection ?? 0;
  if (connection !== have) return connection > have;
  return offline && node.online !== false;
}

/**
 * `node/service` keys, one string instance per pair. Concatenated per event,
 * each key was a fresh string that the world lookup had to flatten, hash and
 * internalize again: a large part of a replay's fold time. Bounded.
 */
const serviceKeys = new Map<string, Map<string, string>>();
function keyOf(node: string, service: string): string {
  let byService = serviceKeys.get(node);
  if (byService === undefined) {
    if (serviceKeys.size >= 4096) serviceKeys.clear();
    serviceKeys.set(node, (byService = new Map()));
  }
  let key = byService.get(service);
  if (key === undefined) {
    if (byService.size >= 4096) byService.clear();
    byService.set(service, (key = serviceKey(node, service)));
  }
  return key;
}

/**
 * `since` is the hub time (the `ts` corrected by the node's clock offset) of
 * the first event of the current status: heartbeats and a change of reason
 * while unhealthy keep it (the occurrence goes on). Reason and detail always
 * show the latest unhealthy event.
 */
function foldService(world: World, wn: WorldNode, stream: string, stored: StoredEvent, clock: NodeClock | undefined): void {
  const e = stored.event as Extract<HomelabEvent, { service: string }>;
  const node = wn.node;
  const key = keyOf(node, e.service);
  const status = e.type === 'service_unhealthy' ? 'unhealthy' : e.type === 'service_starting' ? 'starting' : 'healthy';
  let svc = own(world.services, key);
  if (!svc || svc.status !== status) {
    // A repeat that changes the status (the change itself was lost) was not sampled yet: it is now.
    const next: WorldService = {
      node,
      service: e.service,
      status,
      since: hubTimeOf(clock ?? sampleClock(wn, stream, stored), e.ts),
      lastSeen: stored.rx,
      lastEventId: e.id,
      lastSeq: e.seq,
      problemEventIds: [],
    };
    if (svc?.containers) next.containers = svc.containers;
    svc = next;
    setOwn(world.services, key, svc);
  }
  svc.lastSeen = stored.rx;
  svc.lastEventId = e.id;
  svc.lastSeq = e.seq;
  if (e.data?.containers) svc.containers = e.data.containers;
  if (e.type === 'service_unhealthy') {
    svc.reason = e.data.reason;
    if (e.data.detail !== undefined) svc.detail = e.data.detail;
    else if (svc.detail !== undefined) delete svc.detail;
    if (e.data.probe !== undefined) svc.probe = e.data.probe;
    else if (svc.probe !== undefined) delete svc.probe;
    const ids = svc.problemEventIds;
    if (ids.length >= PROBLEM_IDS_MAX) ids.splice(PROBLEM_IDS_HEAD, ids.length - PROBLEM_IDS_MAX + 1);
    ids.push(e.id);
  } else {
    // Guarded: `delete` of an absent key still costs a runtime call, on nearly every (healthy) event.
    if (svc.reason !== undefined) delete svc.reason;
    if (svc.detail !== undefined) delete svc.detail;
    if (svc.probe !== undefined) delete svc.probe;
  }
}
