import { serviceKey, type Action, type HostServicesFile, type World, type WorldNode, type WorldService } from '@homelab/contracts';
import type { CancelReason, Finding } from './findings';
import { diskProposal, missingProposal, unhealthyProposal, type Proposal } from './proposals';

export interface ReconcileInput {
  desired: Record<string, HostServicesFile>;
  world: World;
  /** All non-archived actions, any state. */
  actions: Action[];
  now: Date;
  /** NODE_ALIAS_MAP: event node name → canonical name (BRIEF.md). */
  aliases: Record<string, string>;
  /**
   * Hosts whose services.yaml is invalid and had no last good version: their
   * absence from `desired` is a typo, not a removal, so nothing is cancelled
   * for them. `'all'` when the hosts folder itself could not be read.
   */
  unreadableNodes?: readonly string[] | 'all';
  /**
   * A completed or failed action holds its occurrence this long, so the world
   * can show the outcome before the same drift is proposed again. Default 5 min.
   */
  settleMs?: number;
}

export interface ReconcilePlan {
  create: Action[];
  cancel: { id: string; reason: CancelReason }[];
  findings: Finding[];
}

const LIVE = new Set(['pending', 'approved', 'running']);
const AUTO_CANCELLABLE = new Set(['redeploy', 'container_restart']);
const DEFAULT_SETTLE_MS = 5 * 60_000;

/**
 * Level-triggered reconcile (RELIABILITY.md, controller-runtime): the plan
 * depends only on desired state, world state and existing actions, never on
 * which event woke the supervisor. Implements BRIEF.md "Supervisor rules";
 * ids come from actionIdFor, so the same drift always maps to the same file.
 */
export function reconcile(input: ReconcileInput): ReconcilePlan {
  const canon = (node: string) => own(input.aliases, node) ?? node;
  const { services, nodes } = canonicalWorld(input.world, canon);
  const findings: Finding[] = [];
  const proposals: Proposal[] = [];

  for (const node of Object.keys(input.desired).sort()) {
    const spec = input.desired[node]!;
    const monitored = Object.keys(spec.services)
      .filter((s) => spec.services[s]!.monitor !== false)
      .sort();
    const wn = nodes.get(node);
    const reported = wn?.lastSeen != null || monitored.some((s) => services.has(serviceKey(node, s)));
    if (!reported) {
      if (monitored.length) findings.push({ kind: 'node_never_reported', node, message: `${node}: no event from its agent yet; no actions until it reports` });
      continue;
    }
    if (wn?.online === false) {
      findings.push({ kind: 'node_offline', node, message: `${node}: agent offline since ${wn.statusSince ?? 'unknown'}; no new actions until it is back` });
      continue;
    }
    // A node replaying its backlog after an outage (issue 3): the world still shows the past, so a
    // problem that already resolved must not open an action. Cancels of pending actions still apply.
    if (wn?.backlogUntilSeq !== undefined && (wn.lastSeq ?? 0) < wn.backlogUntilSeq) {
      findings.push({
        kind: 'node_catching_up',
        node,
        message: `${node}: catching up on its backlog (at seq ${wn.lastSeq ?? 0} of ${wn.backlogUntilSeq}); no new actions until it is current`,
      });
      continue;
    }
    for (const service of monitored) {
      const ws = services.get(serviceKey(node, service));
      if (!ws) proposals.push(missingProposal(service, node, wn, input.now));
      else if (ws.status !== 'healthy') proposals.push(unhealthyProposal(ws, node));
    }
    const disk = wn ? diskProposal(wn, node) : null;
    if (disk) proposals.push(disk);
  }

  const allUnreadable = input.unreadableNodes === 'all';
  const unreadable = new Set(allUnreadable ? [] : (input.unreadableNodes ?? []));
  for (const node of [...nodes.keys()].sort()) {
    if (!own(input.desired, node) && !unreadable.has(node) && !allUnreadable) {
      findings.push({ kind: 'unknown_node', node, message: `${node}: reports events but has no hosts/${node}/services.yaml (or NODE_ALIAS_MAP entry)` });
    }
  }

  const byId = new Map<string, Action[]>();
  for (const a of input.actions) byId.set(a.id, [...(byId.get(a.id) ?? []), a]);
  const settleMs = input.settleMs ?? DEFAULT_SETTLE_MS;
  const create: Action[] = [];
  for (const p of proposals) {
    const same = byId.get(p.id) ?? [];
    if (same.some((a) => LIVE.has(a.state))) continue;
    const sameOccurrence = same.filter((a) => sameInstant(a.drift.firstSeen, p.drift.firstSeen));
    const rejected = sameOccurrence.find((a) => a.state === 'rejected');
    if (rejected) {
      findings.push({
        kind: 'occurrence_rejected',
        node: p.node,
        ...(p.service ? { service: p.service } : {}),
        actionId: p.id,
        message: `${p.summary}; the operator rejected ${p.id} for this occurrence`,
      });
      continue;
    }
    const settling = sameOccurrence.some(
      (a) => (a.state === 'completed' || a.state === 'failed') && input.now.getTime() - Date.parse(a.updatedAt) < settleMs,
    );
    if (!settling) create.push(toAction(p, input.now));
  }

  const cancel: ReconcilePlan['cancel'] = [];
  for (const a of input.actions) {
    if (a.state !== 'pending' || !AUTO_CANCELLABLE.has(a.type) || !a.service) continue;
    const node = canon(a.node);
    const host = own(input.desired, node);
    if ((allUnreadable || unreadable.has(node)) && !host) continue;
    const spec = host ? own(host.services, a.service) : undefined;
    if (!spec || spec.monitor === false) cancel.push({ id: a.id, reason: 'service_removed_from_desired_state' });
    else if (services.get(serviceKey(node, a.service))?.status === 'healthy') cancel.push({ id: a.id, reason: 'drift_resolved_auto' });
  }

  return {
    create: create.sort((x, y) => x.id.localeCompare(y.id)),
    cancel: cancel.sort((x, y) => x.id.localeCompare(y.id)),
    findings,
  };
}

function toAction(p: Proposal, now: Date): Action {
  const at = now.toISOString();
  return {
    id: p.id,
    type: p.type,
    risk: p.risk,
    node: p.node,
    ...(p.service ? { service: p.service } : {}),
    state: 'pending',
    drift: p.drift,
    summary: p.summary,
    createdAt: at,
    updatedAt: at,
    audit: [{ at, state: 'pending', by: 'supervisor', via: 'supervisor' }],
  };
}

/**
 * Own properties only: `constructor` is a valid node and service name, and
 * must not find Object.prototype.constructor.
 */
function own<T>(rec: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(rec, key) ? rec[key] : undefined;
}

/** Times written with different offsets or precision still name the same occurrence. */
function sameInstant(a: string, b: string): boolean {
  return a === b || Date.parse(a) === Date.parse(b);
}

/**
 * World keyed by canonical node names. The observer already applies aliases;
 * this is the defensive second pass. If an alias and its canonical name both
 * appear, the entry seen last wins.
 */
function canonicalWorld(world: World, canon: (n: string) => string) {
  const services = new Map<string, WorldService>();
  for (const s of Object.values(world.services)) {
    const key = serviceKey(canon(s.node), s.service);
    const seen = services.get(key);
    if (!seen || s.lastSeen > seen.lastSeen) services.set(key, s);
  }
  const nodes = new Map<string, WorldNode>();
  for (const [key, n] of Object.entries(world.nodes)) {
    const node = canon(key);
    const seen = nodes.get(node);
    if (!seen || (n.lastSeen ?? '') > (seen.lastSeen ?? '')) nodes.set(node, n);
  }
  return { services, nodes };
}
