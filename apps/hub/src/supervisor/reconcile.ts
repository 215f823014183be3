import {
  HOST_TEMP_FINDING_C,
  serviceKey,
  type Action,
  type HostServicesFile,
  type InventoryScan,
  type Maintenance,
  type PolicySpec,
  type World,
  type WorldNode,
  type WorldService,
} from '@homelab/contracts';
import { agentRevision } from '../desired/revision';
import { clockSkewFindings } from './clock-skew';
import { hostHealthFindings } from './host-health';
import type { CancelReason, Finding } from './findings';
import { autoApproves, inMaintenance, PolicyResolver, type EffectivePolicy } from './policy';
import { actionTypeFor, diskProposal, humanTime, missingProposal, unhealthyProposal, type Proposal } from './proposals';

export interface ReconcileInput {
  desired: Record<string, HostServicesFile>;
  world: World;
  /** All non-archived actions, any state. */
  actions: Action[];
  now: Date;
  /** NODE_ALIAS_MAP: event node name → canonical name (docs/node-aliases.md). */
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
  /** Fleet-wide policy (`hosts/policy.yaml`); the built-in defaults when absent. */
  policy?: PolicySpec;
  /**
   * Archived terminal actions (the store's `<id>--<stamp>.json`, which `actions`
   * leaves out) that ended inside the longest restart window. The restart
   * budget counts the completed and failed restarts of both lists.
   */
  history?: Action[];
  /** CPU temperature (°C) from which a node gets a `host_temperature` finding. Default HOST_TEMP_FINDING_C. */
  hostTempFindingC?: number;
}

export interface ReconcilePlan {
  create: Action[];
  cancel: { id: string; reason: CancelReason }[];
  /** Pending actions (new or existing) the policy approves automatically: pending → approved, audit `policy`. */
  approve: { id: string; note: string }[];
  findings: Finding[];
}

const LIVE = new Set(['pending', 'approved', 'running']);
const ENDED = new Set(['completed', 'failed']);
const AUTO_CANCELLABLE = new Set(['redeploy', 'container_restart']);
const DEFAULT_SETTLE_MS = 5 * 60_000;

interface Candidate {
  p: Proposal;
  policy: EffectivePolicy;
  /** The drift rests on evidence of the node's current session; only such a drift is approved by policy. */
  fresh: boolean;
}

/**
 * Level-triggered reconcile (docs/reliability.md, "Decide from state"): the plan
 * depends only on desired state, world state, policy and the action files
 * (current and archived), never on which event woke the supervisor. Implements
 * docs/supervisor.md "Rules" plus its "Policy": auto-approval per risk,
 * the restart budget with backoff and escalation, maintenance silences and the
 * rejection cool-down. Ids come from actionIdFor, so the same drift always maps
 * to the same file. docs/supervisor.md describes every rule.
 */
export function reconcile(input: ReconcileInput): ReconcilePlan {
  const now = input.now.getTime();
  const canon = (node: string) => own(input.aliases, node) ?? node;
  const { services, nodes } = canonicalWorld(input.world, input.aliases);
  const idx = indexActions(input.actions, input.history ?? [], canon);
  const policies = new PolicyResolver(input.policy);
  const findings: Finding[] = [];
  const candidates: Candidate[] = [];

  for (const node of Object.keys(input.desired).sort()) {
    const spec = input.desired[node]!;
    const observed = services.get(node);
    // One pass over the node's services; only the few that drift are sorted (for a stable order).
    let monitored = false;
    let mentioned = false;
    const drifting: string[] = [];
    for (const service of Object.keys(spec.services)) {
      if (spec.services[service]!.monitor === false) continue;
      monitored = true;
      const ws = observed?.get(service);
      if (ws) mentioned = true;
      // A service still starting has no verdict yet: neither healthy nor a drift.
      if (!ws || ws.status === 'unhealthy') drifting.push(service);
    }
    drifting.sort();
    const nodeMaint = inMaintenance(spec.maintenance, now) ? spec.maintenance : undefined;
    const wn = nodes.get(node);
    const nodeFinding = (kind: Finding['kind'], message: string) => {
      if (nodeMaint) findings.push(silencedFinding(node, undefined, message, nodeMaint, node));
      else findings.push({ kind, node, message });
    };
    if (wn?.lastSeen == null && !mentioned) {
      if (monitored) nodeFinding('node_never_reported', `${node}: no event from its agent yet; no actions until it reports`);
      continue;
    }
    if (wn?.online === false) {
      nodeFinding('node_offline', `${node}: agent offline since ${wn.statusSince ?? 'unknown'}; no new actions until it is back`);
      continue;
    }
    // A node replaying its backlog after an outage (docs/mqtt.md, `backlog`): the world still shows the past, so a
    // problem that already resolved must not open an action. Cancels of pending actions still apply.
    if (wn?.backlogUntilSeq !== undefined && (wn.lastSeq ?? 0) < wn.backlogUntilSeq) {
      nodeFinding(
        'node_catching_up',
        `${node}: catching up on its backlog (at seq ${wn.lastSeq ?? 0} of ${wn.backlogUntilSeq}); no new actions until it is current`,
      );
      continue;
    }
    // "Not reported yet" is not "missing" (docs/supervisor.md, "First contact"): until the agent's complete
    // scan of this session and of the desired state it now has is folded, the world cannot say what is absent.
    const inventory = currentInventory(node, wn, agentRevision(spec));
    if (typeof inventory === 'string') {
      nodeFinding('node_inventory_pending', inventory);
      continue;
    }
    for (const service of drifting) {
      const ws = observed?.get(service);
      const svcSpec = spec.services[service]!;
      const svcMaint = nodeMaint ?? (inMaintenance(svcSpec.maintenance, now) ? svcSpec.maintenance : undefined);
      const policy = policies.forService(node, spec, service);
      const p = ws ? unhealthyDecision(ws, node, policy, idx, now, findings, svcMaint) : missingProposal(service, node, wn, input.now);
      if (!p) continue;
      // Missing: the current inventory itself says so. Unhealthy: its latest event must be of this session.
      const fresh = !ws || ws.lastSeq >= inventory.sessionFromSeq;
      if (svcMaint) findings.push(silencedFinding(node, service, p.summary, svcMaint, nodeMaint ? node : `${node}/${service}`));
      else candidates.push({ p, policy, fresh });
    }
    const disk = wn ? diskProposal(wn, node, { removeVolumes: spec.diskCleanup?.volumes }) : null;
    if (disk && nodeMaint) findings.push(silencedFinding(node, undefined, disk.summary, nodeMaint, node));
    else if (disk) candidates.push({ p: disk, policy: policies.forNode(node, spec), fresh: true });
  }

  const allUnreadable = input.unreadableNodes === 'all';
  const unreadable = new Set(allUnreadable ? [] : (input.unreadableNodes ?? []));
  for (const node of [...nodes.keys()].sort()) {
    if (!own(input.desired, node) && !unreadable.has(node) && !allUnreadable) {
      findings.push({ kind: 'unknown_node', node, message: `${node}: reports events but has no hosts/${node}/services.yaml (or NODE_ALIAS_MAP entry)` });
    }
  }
  findings.push(...clockSkewFindings(nodes));
  findings.push(...hostHealthFindings(nodes, input.hostTempFindingC ?? HOST_TEMP_FINDING_C));

  const settleMs = input.settleMs ?? DEFAULT_SETTLE_MS;
  const create: Action[] = [];
  const approve: ReconcilePlan['approve'] = [];
  for (const { p, policy, fresh } of candidates) {
    const same = idx.byId.get(p.id) ?? [];
    const live = same.find((a) => LIVE.has(a.state));
    if (live) {
      // Level-triggered: an action still pending while policy allows it (e.g. policy changed, or a crash
      // between create and approve) is approved now — once its drift rests on evidence of this session.
      if (live.state === 'pending' && fresh && autoApproves(policy, live.risk)) approve.push({ id: live.id, note: approvalNote(live.risk, policy) });
      continue;
    }
    // One live action per service: e.g. an escalated redeploy waiting for approval holds back new restarts.
    if (p.service && (idx.liveByService.get(serviceKey(p.node, p.service)) ?? []).length) continue;
    const sameOccurrence = same.filter((a) => sameInstant(a.drift.firstSeen, p.drift.firstSeen));
    const rejected = sameOccurrence.find((a) => a.state === 'rejected');
    if (rejected) {
      const until = Date.parse(rejected.updatedAt) + policy.rejectCooldownMs;
      if (now < until) {
        findings.push({
          kind: 'occurrence_rejected',
          node: p.node,
          ...(p.service ? { service: p.service } : {}),
          actionId: p.id,
          message: `${p.summary}; the operator rejected ${p.id} for this occurrence; proposed again after ${humanTime(new Date(until).toISOString())} (rejectCooldown ${policy.rejectCooldown}) unless it recovers first`,
          until: new Date(until).toISOString(),
        });
        continue;
      }
    }
    // A completed or failed action (any type, for the same service) that ended just now, of this occurrence or
    // of anything that began before it ended (e.g. what its own recreate showed): the world may not show its
    // effect yet. Matching the occurrence alone let an action of a stale drift skip the wait.
    const ended = p.service ? (idx.endedByService.get(serviceKey(p.node, p.service)) ?? []) : same.filter((a) => ENDED.has(a.state));
    const firstSeen = Date.parse(p.drift.firstSeen);
    const settling = ended.some(
      (a) => now - Date.parse(a.updatedAt) < settleMs && (sameInstant(a.drift.firstSeen, p.drift.firstSeen) || firstSeen <= endedOnNode(a)),
    );
    if (settling) continue;
    create.push(toAction(p, input.now));
    if (fresh && autoApproves(policy, p.risk)) approve.push({ id: p.id, note: approvalNote(p.risk, policy) });
  }

  const cancel: ReconcilePlan['cancel'] = [];
  for (const a of input.actions) {
    if (a.state !== 'pending' || !AUTO_CANCELLABLE.has(a.type) || !a.service) continue;
    const node = canon(a.node);
    const host = own(input.desired, node);
    if ((allUnreadable || unreadable.has(node)) && !host) continue;
    const spec = host ? own(host.services, a.service) : undefined;
    if (!spec || spec.monitor === false) cancel.push({ id: a.id, reason: 'service_removed_from_desired_state' });
    // An operator's request is no drift that can resolve: a healthy service is why one asks for a restart now (docs/actions.md, "Manual actions").
    else if (a.drift.type !== 'operator_request' && services.get(node)?.get(a.service)?.status === 'healthy') {
      // Maintenance leaves pending actions as they are; a resolved one is cancelled once the window ends.
      if (inMaintenance(host!.maintenance, now) || inMaintenance(spec.maintenance, now)) continue;
      cancel.push({ id: a.id, reason: 'drift_resolved_auto' });
    }
  }

  return {
    create: create.sort((x, y) => x.id.localeCompare(y.id)),
    cancel: cancel.sort((x, y) => x.id.localeCompare(y.id)),
    approve: approve.sort((x, y) => x.id.localeCompare(y.id)),
    findings,
  };
}

/**
 * The trigger table, then the restart budget: a restart-worthy drift gets a
 * restart while the service has budget left and its backoff has passed, a
 * `restart_backoff` finding while waiting, and a guarded redeploy once the
 * budget is spent. A silenced service still gets its proposal computed (for
 * the finding's text) but no backoff finding.
 */
function unhealthyDecision(
  ws: WorldService,
  node: string,
  policy: EffectivePolicy,
  idx: ActionIndex,
  now: number,
  findings: Finding[],
  silencedBy: Maintenance | undefined,
): Proposal | null {
  if (actionTypeFor(ws.reason) !== 'container_restart') return unhealthyProposal(ws, node);
  const restarts = (idx.restartsByService.get(serviceKey(node, ws.service)) ?? []).filter((t) => now - t < policy.restartWindowMs);
  const last = restarts.length ? Math.max(...restarts) : undefined;
  if (restarts.length >= policy.restartMax) {
    return unhealthyProposal(ws, node, {
      max: policy.restartMax,
      escalation: {
        from: 'container_restart',
        restarts: restarts.length,
        window: policy.restartWindow,
        ...(last !== undefined ? { lastRestartAt: new Date(last).toISOString() } : {}),
      },
    });
  }
  const p = unhealthyProposal(ws, node);
  if (last !== undefined && !silencedBy) {
    // 1st restart: no wait; after the n-th restart in the window: backoff × 2^(n-1), never beyond the window.
    const wait = Math.min(policy.backoffMs * 2 ** (restarts.length - 1), policy.restartWindowMs);
    const until = last + wait;
    if (now < until) {
      const at = new Date(until).toISOString();
      findings.push({
        kind: 'restart_backoff',
        node,
        service: ws.service,
        actionId: p.id,
        message: `${p.summary}; restart ${restarts.length + 1} of ${policy.restartMax} in ${policy.restartWindow} waits for its backoff until ${humanTime(at)}`,
        until: at,
      });
      return null;
    }
  }
  return p;
}

/**
 * The node's latest complete scan when it is of the agent's current session
 * (birth) and of the desired state the hub now publishes for it — only then
 * does the world say what is missing; otherwise why not, as a finding's text.
 */
function currentInventory(node: string, wn: WorldNode | undefined, revision: string): InventoryScan | string {
  const inv = wn?.inventory;
  if (!inv || wn.session === null || inv.session < wn.session) {
    return `${node}: waiting for its agent's first complete report${wn?.session != null ? ` of session ${wn.session}` : ''}; no new actions until it arrives`;
  }
  if (inv.session > wn.session) return `${node}: waiting for the birth of its agent's session ${inv.session}; no new actions until it arrives`;
  if (inv.desiredRevision !== revision) {
    return `${node}: its agent has not yet reported on the current services.yaml (it reported revision ${inv.desiredRevision}, now ${revision}); no new actions until it does`;
  }
  return inv;
}

function silencedFinding(node: string, service: string | undefined, what: string, m: Maintenance, scope: string): Finding {
  return {
    kind: 'silenced',
    node,
    ...(service ? { service } : {}),
    message: `${what}; silenced: ${scope} is in maintenance until ${humanTime(m.until)}${m.reason ? ` (${m.reason.slice(0, 200)})` : ''}`,
    until: m.until,
  };
}

function approvalNote(risk: string, policy: EffectivePolicy): string {
  return `auto-approved: risk ${risk} is within autoApprove ${policy.autoApprove} (${policy.autoApproveFrom})`;
}

interface ActionIndex {
  byId: Map<string, Action[]>;
  liveByService: Map<string, Action[]>;
  /** Completed or failed actions (current files only) per service, for the settle rule. */
  endedByService: Map<string, Action[]>;
  /** End times of completed or failed restarts per service, current and archived. */
  restartsByService: Map<string, number[]>;
}

function indexActions(actions: readonly Action[], history: readonly Action[], canon: (n: string) => string): ActionIndex {
  const idx: ActionIndex = { byId: new Map(), liveByService: new Map(), endedByService: new Map(), restartsByService: new Map() };
  const push = <T>(m: Map<string, T[]>, k: string, v: T) => {
    const list = m.get(k);
    if (list) list.push(v);
    else m.set(k, [v]);
  };
  const seen = new Set<string>();
  const restart = (a: Action) => {
    if (a.type !== 'container_restart' || !ENDED.has(a.state) || !a.service) return;
    const occurrence = `${a.id}@${a.createdAt}`;
    if (seen.has(occurrence)) return;
    seen.add(occurrence);
    push(idx.restartsByService, serviceKey(canon(a.node), a.service), Date.parse(a.updatedAt));
  };
  for (const a of actions) {
    push(idx.byId, a.id, a);
    if (a.service) {
      const key = serviceKey(canon(a.node), a.service);
      if (LIVE.has(a.state)) push(idx.liveByService, key, a);
      else if (ENDED.has(a.state)) push(idx.endedByService, key, a);
    }
    restart(a);
  }
  for (const a of history) restart(a);
  return idx;
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
    ...(p.escalation ? { escalation: p.escalation } : {}),
    ...(p.removeVolumes ? { removeVolumes: true } : {}),
  };
}

/**
 * When an action ended, on the clock `firstSeen` comes from: the agent's
 * `finishedAt` when it answered (a drift's time is the agent's too, so skew
 * cannot move one against the other), else the hub's last change.
 */
function endedOnNode(a: Action): number {
  const finished = a.result?.finishedAt ? Date.parse(a.result.finishedAt) : NaN;
  return Number.isNaN(finished) ? Date.parse(a.updatedAt) : finished;
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
 * World by canonical node name, then service name. The observer already
 * applies aliases; this is the defensive second pass. If an alias and its
 * canonical name both appear, the entry seen last wins. Keyed by the names the
 * world already holds (no per-service key strings), as this runs over every
 * service of the fleet each cycle.
 */
function canonicalWorld(world: World, aliases: Record<string, string>) {
  const hasAliases = Object.keys(aliases).length > 0;
  const canon = (n: string) => (hasAliases ? (own(aliases, n) ?? n) : n);
  const services = new Map<string, Map<string, WorldService>>();
  for (const key in world.services) {
    if (!Object.hasOwn(world.services, key)) continue;
    const s = world.services[key]!;
    const node = canon(s.node);
    let m = services.get(node);
    if (!m) services.set(node, (m = new Map()));
    const seen = m.get(s.service);
    if (!seen || s.lastSeen > seen.lastSeen) m.set(s.service, s);
  }
  const nodes = new Map<string, WorldNode>();
  for (const [key, n] of Object.entries(world.nodes)) {
    const node = canon(key);
    const seen = nodes.get(node);
    if (!seen || (n.lastSeen ?? '') > (seen.lastSeen ?? '')) nodes.set(node, n);
  }
  return { services, nodes };
}
