import { DEFAULT_POLICY, durationMs, type AutoApprove, type HostServicesFile, type Maintenance, type PolicySpec, type Risk } from '@homelab/contracts';

/** The policy in force for one service (or, for disk cleanups, one node), every field resolved. */
export interface EffectivePolicy {
  autoApprove: AutoApprove;
  /** Where `autoApprove` was set, for the audit note of an automatic approval. */
  autoApproveFrom: string;
  restartMax: number;
  /** As written (`30m`), for messages; `restartWindowMs` for arithmetic. */
  restartWindow: string;
  restartWindowMs: number;
  backoff: string;
  backoffMs: number;
  rejectCooldown: string;
  rejectCooldownMs: number;
}

/** The schema caps `restartBudget.window` at 24 h, so this much history is all the budget ever needs. */
export const MAX_RESTART_WINDOW_MS = 24 * 3_600_000;

const RISK_RANK: Record<Risk, number> = { low: 1, guarded: 2 };
const APPROVE_RANK: Record<AutoApprove, number> = { none: 0, low: 1, guarded: 2 };

/** True when the policy lets the supervisor approve an action of this risk by itself. */
export function autoApproves(policy: EffectivePolicy, risk: Risk): boolean {
  return RISK_RANK[risk] <= APPROVE_RANK[policy.autoApprove];
}

const durations = new Map<string, number>();
function ms(text: string): number {
  let v = durations.get(text);
  if (v === undefined) {
    v = durationMs(text);
    if (durations.size < 1000) durations.set(text, v);
  }
  return v;
}

/** Applies the fields `spec` sets on top of `base`; `source` names where they were set. */
export function mergePolicy(base: EffectivePolicy, spec: PolicySpec | undefined, source: string): EffectivePolicy {
  if (!spec) return base;
  const out = { ...base };
  if (spec.autoApprove !== undefined) {
    out.autoApprove = spec.autoApprove;
    out.autoApproveFrom = source;
  }
  const b = spec.restartBudget;
  if (b?.max !== undefined) out.restartMax = b.max;
  if (b?.window !== undefined) {
    out.restartWindow = b.window;
    out.restartWindowMs = ms(b.window);
  }
  if (b?.backoff !== undefined) {
    out.backoff = b.backoff;
    out.backoffMs = ms(b.backoff);
  }
  if (spec.rejectCooldown !== undefined) {
    out.rejectCooldown = spec.rejectCooldown;
    out.rejectCooldownMs = ms(spec.rejectCooldown);
  }
  return out;
}

export const BUILT_IN_POLICY: EffectivePolicy = {
  autoApprove: DEFAULT_POLICY.autoApprove,
  autoApproveFrom: 'the built-in default',
  restartMax: DEFAULT_POLICY.restartBudget.max,
  restartWindow: DEFAULT_POLICY.restartBudget.window,
  restartWindowMs: durationMs(DEFAULT_POLICY.restartBudget.window),
  backoff: DEFAULT_POLICY.restartBudget.backoff,
  backoffMs: durationMs(DEFAULT_POLICY.restartBudget.backoff),
  rejectCooldown: DEFAULT_POLICY.rejectCooldown,
  rejectCooldownMs: durationMs(DEFAULT_POLICY.rejectCooldown),
};

/**
 * Resolves policy field by field: a service's `policy`, its host's `policy`,
 * `hosts/policy.yaml`, then the built-in defaults. Host results are cached, so
 * a cycle over thousands of services merges only where a service overrides.
 */
export class PolicyResolver {
  private readonly fleet: EffectivePolicy;
  private readonly hosts = new Map<string, EffectivePolicy>();

  constructor(fleet: PolicySpec | undefined) {
    this.fleet = mergePolicy(BUILT_IN_POLICY, fleet, 'hosts/policy.yaml');
  }

  forNode(node: string, host: HostServicesFile): EffectivePolicy {
    let p = this.hosts.get(node);
    if (!p) {
      p = mergePolicy(this.fleet, host.policy, `hosts/${node}/services.yaml policy`);
      this.hosts.set(node, p);
    }
    return p;
  }

  forService(node: string, host: HostServicesFile, service: string): EffectivePolicy {
    const base = this.forNode(node, host);
    const spec = Object.hasOwn(host.services, service) ? host.services[service]?.policy : undefined;
    return mergePolicy(base, spec, `hosts/${node}/services.yaml services.${service}.policy`);
  }
}

/** True while `now` is inside the window (`from` defaults to "already started"). */
export function inMaintenance(m: Maintenance | undefined, now: number): m is Maintenance {
  if (!m) return false;
  if (m.from !== undefined && now < Date.parse(m.from)) return false;
  return now < Date.parse(m.until);
}
