import {
  ACTION_STATES,
  type Action,
  type ConfigProblem,
  type Finding,
  type HostServicesFile,
  type Summary,
  type World,
  SUMMARY_FULL_LIST_MAX,
  serviceKey,
} from '@homelab/contracts';
import { escapeAction, escapeFinding, escapeNode, escapeProblem, escapeService } from './summary-escape';

export interface SummaryInput {
  world: World;
  desired: Record<string, HostServicesFile>;
  actions: Action[];
  problems: ConfigProblem[];
  findings: Finding[];
  now: Date;
  recentLimit?: number;
}

const byUpdatedDesc = (a: Action, b: Action) => b.updatedAt.localeCompare(a.updatedAt) || a.id.localeCompare(b.id);

/**
 * The JSON of `GET /summary` (docs/ui-api.md, "`/summary`"): what operators
 * and the mirror read. Nodes and services are the union of desired and observed, so
 * a desired service nobody reported yet is visible too. Text from nodes is
 * escaped (summary-escape.ts), so neither this JSON nor the Markdown made
 * from it carries a node's control characters.
 */
export function buildSummary(input: SummaryInput): Summary {
  const { world, desired } = input;
  const nodeNames = new Set([...Object.keys(desired), ...Object.keys(world.nodes)]);
  const nodes = [...nodeNames].sort().map((node) => {
    const w = world.nodes[node];
    return escapeNode({
      node,
      online: w?.online ?? null,
      session: w?.session ?? null,
      statusSince: w?.statusSince ?? null,
      lastSeen: w?.lastSeen ?? null,
      lastSeq: w?.lastSeq ?? null,
      dockerReachable: w?.dockerReachable ?? null,
      disks: w?.disks ?? {},
      ...(w?.metrics ? { metrics: w.metrics } : {}),
      ...(w?.clocks ? { clocks: w.clocks } : {}),
      desiredServices: Object.keys(desired[node]?.services ?? {}).length,
    });
  });
  const services = Object.keys(world.services)
    .sort()
    .map((key) => {
      const s = world.services[key]!;
      const spec = desired[s.node]?.services[s.service];
      return escapeService({ ...s, desired: spec !== undefined, monitored: spec?.monitor ?? false });
    });
  const counts: Record<string, number> = Object.fromEntries(ACTION_STATES.map((s) => [s, 0]));
  for (const a of input.actions) counts[a.state] = (counts[a.state] ?? 0) + 1;
  const terminal = input.actions.filter((a) => ['completed', 'failed', 'rejected', 'cancelled'].includes(a.state));
  return {
    generatedAt: input.now.toISOString(),
    nodes,
    services,
    actions: {
      counts,
      pending: input.actions
        .filter((a) => a.state === 'pending' || a.state === 'approved')
        .sort(byUpdatedDesc)
        .map(escapeAction),
      running: input.actions
        .filter((a) => a.state === 'running')
        .sort(byUpdatedDesc)
        .map(escapeAction),
      recent: terminal
        .sort(byUpdatedDesc)
        .slice(0, input.recentLimit ?? 20)
        .map(escapeAction),
    },
    configProblems: input.problems.map(escapeProblem),
    findings: input.findings.map(escapeFinding),
  };
}

/**
 * The summary as `GET /summary` sends it: with every service while the fleet
 * is small, and above SUMMARY_FULL_LIST_MAX (or when asked) only the services
 * that are not healthy, plus counts — a summary of 20,000 services would
 * otherwise be 5 MB of mostly "healthy" (goal p99 ≤ 20 ms at 20,000:
 * docs/benchmarks.md, "UI and API").
 */
export function summaryForClients(s: Summary, list: 'auto' | 'all' | 'problems' = 'auto'): Summary {
  let healthy = 0;
  for (const v of s.services) if (v.status === 'healthy') healthy++;
  const serviceCounts = { total: s.services.length, healthy };
  const all = list === 'all' || (list === 'auto' && s.services.length <= SUMMARY_FULL_LIST_MAX);
  if (all) return { ...s, serviceCounts, servicesListed: 'all' };
  return { ...s, services: s.services.filter((v) => v.status !== 'healthy'), serviceCounts, servicesListed: 'problems' };
}

export { serviceKey };
