import { ACTION_RISK, actionIdFor, type Action, type AuditEntry, type HostServicesFile, type ProposeBody } from '@homelab/contracts';

const LIVE = new Set(['pending', 'approved', 'running']);

export interface ManualInput {
  request: Pick<ProposeBody, 'type' | 'node' | 'service' | 'note'>;
  /** Desired state in force (the supervisor's): what the agent will accept. */
  desired: Record<string, HostServicesFile>;
  /** Every action the store holds (any state). */
  actions: readonly Action[];
  now: Date;
  /** The proposer, as in a decision's audit: who, via, from where. */
  by: string;
  via: AuditEntry['via'];
  from?: AuditEntry['from'];
}

export type ManualOutcome = { ok: true; action: Action } | { ok: false; code: 'invalid_request' | 'not_found' | 'conflict'; message: string };

/**
 * Pure: an operator's proposal as a pending action, the same file, id, risk
 * and life as the supervisor's (docs/actions.md, "Manual actions"). Refused
 * up front is what the agent would refuse anyway (a service outside desired
 * state or `monitor: false`, a redeploy without `compose`), and a second live
 * action for the same service or node cleanup.
 */
export function manualAction(input: ManualInput): ManualOutcome {
  const { type, node, service, note } = input.request;
  const host = Object.hasOwn(input.desired, node) ? input.desired[node] : undefined;
  if (!host) return { ok: false, code: 'not_found', message: `node ${node} has no hosts/${node}/services.yaml (adopt it first: homelab adopt --node ${node})` };
  if (type === 'disk_cleanup') {
    if (service) return { ok: false, code: 'invalid_request', message: 'disk_cleanup is for a whole node; give no service' };
  } else {
    if (!service) return { ok: false, code: 'invalid_request', message: `${type} needs a service` };
    const spec = Object.hasOwn(host.services, service) ? host.services[service] : undefined;
    if (!spec) return { ok: false, code: 'not_found', message: `service ${service} is not in hosts/${node}/services.yaml` };
    if (spec.monitor === false) return { ok: false, code: 'invalid_request', message: `service ${service} is monitor: false; the agent runs nothing for it` };
    if (type === 'redeploy' && !spec.compose)
      return { ok: false, code: 'invalid_request', message: `service ${service} has no compose settings in services.yaml, so it cannot be redeployed` };
  }
  const id = actionIdFor(type, node, service);
  const live = input.actions.find((a) => LIVE.has(a.state) && (a.id === id || (service !== undefined && a.node === node && a.service === service)));
  if (live) return { ok: false, code: 'conflict', message: `${live.id} is already ${live.state}; one live action per service (decide that one first)` };

  const at = input.now.toISOString();
  const what = type === 'container_restart' ? 'restart' : type === 'redeploy' ? 'redeploy' : 'disk cleanup';
  const summary = `${service ? `${node}/${service}` : node}: ${what} requested by ${input.by} (${input.via})${note ? `: ${note}` : ''}`;
  return {
    ok: true,
    action: {
      id,
      type,
      risk: ACTION_RISK[type],
      node,
      ...(service ? { service } : {}),
      state: 'pending',
      drift: { type: 'operator_request', reason: 'manual', eventIds: [], firstSeen: at },
      summary: summary.length > 500 ? `${summary.slice(0, 499)}…` : summary,
      createdAt: at,
      updatedAt: at,
      audit: [{ at, state: 'pending', by: input.by, via: input.via, ...(note ? { note } : {}), ...(input.from ? { from: input.from } : {}) }],
      ...(type === 'disk_cleanup' && host.diskCleanup?.volumes ? { removeVolumes: true as const } : {}),
    },
  };
}
