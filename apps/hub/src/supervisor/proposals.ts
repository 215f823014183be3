import {
  actionIdFor,
  type ActionType,
  type Drift,
  type Risk,
  type WorldNode,
  type WorldService,
} from '@homelab/contracts';

/** What the supervisor would write for one drift, before checking existing actions. */
export interface Proposal {
  id: string;
  type: ActionType;
  risk: Risk;
  node: string;
  service?: string;
  drift: Drift;
  summary: string;
}

/** Reasons a plain restart can fix (BRIEF.md "Supervisor rules"); anything else, known or not, gets a redeploy. */
const RESTART_REASONS: ReadonlySet<string> = new Set(['containers_not_running', 'mqtt_unreachable']);
const MAX_EVENT_IDS = 50;

/** `2026-11-26T14:02:31.000Z` → `2026-11-26 14:02 UTC`. */
export function humanTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const sentence = (s: string) => (s.length > 500 ? `${s.slice(0, 499)}…` : s);

export function unhealthyProposal(s: WorldService, node: string): Proposal {
  const reason = s.reason?.slice(0, 64);
  const type: ActionType = reason && RESTART_REASONS.has(reason) ? 'container_restart' : 'redeploy';
  const events = s.problemEventIds.length ? ` (${plural(s.problemEventIds.length, 'event')})` : '';
  const detail = s.detail ? `: ${s.detail.slice(0, 160)}` : '';
  return {
    id: actionIdFor(type, node, s.service),
    type,
    risk: type === 'container_restart' ? 'low' : 'guarded',
    node,
    service: s.service,
    drift: {
      type: 'unhealthy_service',
      ...(reason ? { reason } : {}),
      eventIds: s.problemEventIds.slice(0, MAX_EVENT_IDS),
      firstSeen: s.since,
    },
    summary: sentence(`${node}/${s.service}: ${reason ? reason.replace(/_/g, ' ') : 'unhealthy'} since ${humanTime(s.since)}${events}${detail}`),
  };
}

/**
 * A desired service the node's agent never reported. There is no event to
 * date it, so the occurrence is the agent's current session (`statusSince`):
 * a rejected proposal comes back only after the agent reconnects.
 */
export function missingProposal(service: string, node: string, n: WorldNode | undefined, now: Date): Proposal {
  const firstSeen = n?.statusSince ?? n?.lastSeen ?? now.toISOString();
  return {
    id: actionIdFor('redeploy', node, service),
    type: 'redeploy',
    risk: 'guarded',
    node,
    service,
    drift: { type: 'missing_service', eventIds: [], firstSeen },
    summary: sentence(`${node}/${service}: in desired state but not reported by the node's agent since ${humanTime(firstSeen)}`),
  };
}

/** Disk pressure `high` on any mount of the node; the occurrence starts with the earliest such mount. */
export function diskProposal(n: WorldNode, node: string): Proposal | null {
  const high = Object.values(n.disks)
    .filter((d) => d.level === 'high')
    .sort((a, b) => a.mount.localeCompare(b.mount));
  if (high.length === 0) return null;
  const firstSeen = high.map((d) => d.since).sort((a, b) => Date.parse(a) - Date.parse(b))[0]!;
  const mounts = high.map((d) => `${d.mount} (${Math.round(d.usedPercent)}% used)`).join(', ');
  return {
    id: actionIdFor('disk_cleanup', node),
    type: 'disk_cleanup',
    risk: 'guarded',
    node,
    drift: { type: 'disk_pressure', reason: 'high', eventIds: [], firstSeen },
    summary: sentence(`${node}: disk pressure high on ${mounts} since ${humanTime(firstSeen)}`),
  };
}
