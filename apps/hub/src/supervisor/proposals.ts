import { ACTION_RISK, actionIdFor, type ActionType, type Drift, type Escalation, type Risk, type WorldNode, type WorldService } from '@homelab/contracts';

/** What the supervisor would write for one drift, before checking existing actions. */
export interface Proposal {
  id: string;
  type: ActionType;
  risk: Risk;
  node: string;
  service?: string;
  drift: Drift;
  summary: string;
  escalation?: Escalation;
  removeVolumes?: true;
}

/**
 * Reasons a plain restart can fix (docs/supervisor.md, "Trigger → action"); anything
 * else, known or not, gets a redeploy. `restart_loop` (a container Docker keeps
 * restarting, or restart bursts) is deliberately not here: restarting a crash
 * loop once more does not help.
 */
export const RESTART_REASONS: ReadonlySet<string> = new Set(['containers_not_running', 'mqtt_unreachable']);
const MAX_EVENT_IDS = 50;

/** `2026-11-26T14:02:31.000Z` → `2026-11-26 14:02 UTC`. */
export function humanTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const sentence = (s: string) => (s.length > 500 ? `${s.slice(0, 499)}…` : s);

/** The action type the trigger table gives an unhealthy service (before the restart budget). */
export function actionTypeFor(reason: string | undefined): ActionType {
  return reason && RESTART_REASONS.has(reason.slice(0, 64)) ? 'container_restart' : 'redeploy';
}

/**
 * `escalation`: the restart budget is spent, so a guarded redeploy replaces
 * the restart the trigger table would give.
 */
export function unhealthyProposal(s: WorldService, node: string, spent?: { escalation: Escalation; max: number }): Proposal {
  const escalation = spent?.escalation;
  const reason = s.reason?.slice(0, 64);
  const type: ActionType = escalation ? 'redeploy' : actionTypeFor(reason);
  // The observer keeps at most MAX_EVENT_IDS ids (first and latest), so a full list means "at least".
  const n = s.problemEventIds.length;
  const events = n ? ` (${n >= MAX_EVENT_IDS ? `${n}+ events` : plural(n, 'event')})` : '';
  const detail = s.detail ? `: ${s.detail.slice(0, 160)}` : '';
  let why = '';
  if (spent && escalation) {
    why =
      spent.max === 0
        ? '; restarts are disabled by policy (restartBudget.max 0), so a redeploy is proposed'
        : `; restart budget spent (${plural(escalation.restarts, 'restart')} in ${escalation.window}), so a redeploy is proposed`;
  }
  return {
    id: actionIdFor(type, node, s.service),
    type,
    risk: ACTION_RISK[type],
    node,
    service: s.service,
    drift: {
      type: 'unhealthy_service',
      ...(reason ? { reason } : {}),
      eventIds: s.problemEventIds.slice(0, MAX_EVENT_IDS),
      firstSeen: s.since,
    },
    summary: sentence(`${node}/${s.service}: ${reason ? reason.replace(/_/g, ' ') : 'unhealthy'} since ${humanTime(s.since)}${events}${why}${detail}`),
    ...(escalation ? { escalation } : {}),
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
    risk: ACTION_RISK.redeploy,
    node,
    service,
    drift: { type: 'missing_service', reason: 'not_reported', eventIds: [], firstSeen },
    summary: sentence(`${node}/${service}: in desired state but not reported by the node's agent since ${humanTime(firstSeen)}`),
  };
}

/** Disk pressure `high` on any mount of the node; the occurrence starts with the earliest such mount. */
export function diskProposal(n: WorldNode, node: string, opts: { removeVolumes?: boolean } = {}): Proposal | null {
  const high = Object.values(n.disks)
    .filter((d) => d.level === 'high')
    .sort((a, b) => a.mount.localeCompare(b.mount));
  if (high.length === 0) return null;
  const firstSeen = high.map((d) => d.since).sort((a, b) => Date.parse(a) - Date.parse(b))[0]!;
  const mounts = high.map((d) => `${d.mount} (${Math.round(d.usedPercent)}% used)`).join(', ');
  return {
    id: actionIdFor('disk_cleanup', node),
    type: 'disk_cleanup',
    risk: ACTION_RISK.disk_cleanup,
    node,
    drift: { type: 'disk_pressure', reason: 'high', eventIds: [], firstSeen },
    summary: sentence(`${node}: disk pressure high on ${mounts} since ${humanTime(firstSeen)}`),
    ...(opts.removeVolumes ? { removeVolumes: true as const } : {}),
  };
}
