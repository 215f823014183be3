import path from 'node:path';
import { DEFAULT_POLICY, type HostServicesFile, type Maintenance, type PolicySpec } from '@homelab/contracts';
import { formatProblems, loadDesired } from '@homelab/hub';
import { createLogger } from '@homelab/logging';
import { parse } from '../args';
import { VALIDATE_HELP } from '../help';

/**
 * `homelab validate`: checks `<hosts>/<node>/services.yaml` and the optional
 * `<hosts>/policy.yaml` with the same loader the hub uses, and prints every
 * problem with file, path and reason (YAML syntax errors with line and
 * column). When all is valid it prints what is in force: nodes, the fleet-wide
 * policy, and maintenance windows that are active, scheduled or over.
 */
export async function validateCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { hosts: { type: 'string' } } as const);
  if (values.help) {
    console.log(VALIDATE_HELP);
    return 0;
  }
  const hostsDir = path.resolve(values.hosts ?? process.env.HOMELAB_HOSTS_DIR ?? 'hosts');
  const { desired, problems, policy } = await loadDesired(hostsDir, {}, createLogger('validate', { level: 'silent' }));
  if (problems.length) {
    console.error(formatProblems(problems));
    return 1;
  }
  const nodes = Object.keys(desired).sort();
  const services = nodes.reduce((n, node) => n + Object.keys(desired[node]!.services).length, 0);
  console.log(`ok: ${nodes.length} nodes (${nodes.join(', ')}), ${services} services in ${hostsDir}`);
  console.log(`policy (${policy ? 'policy.yaml' : 'built-in defaults'}): ${describePolicy(policy)}`);
  for (const line of maintenanceLines(desired, Date.now())) console.log(line);
  return 0;
}

/** The fleet-wide policy with defaults filled in, in one line. */
function describePolicy(spec: PolicySpec | undefined): string {
  const budget = { ...DEFAULT_POLICY.restartBudget, ...spec?.restartBudget };
  const autoApprove = spec?.autoApprove ?? DEFAULT_POLICY.autoApprove;
  return [
    `autoApprove ${autoApprove}`,
    `restart budget ${budget.max} in ${budget.window} (backoff ${budget.backoff}, doubling)`,
    `rejectCooldown ${spec?.rejectCooldown ?? DEFAULT_POLICY.rejectCooldown}`,
  ].join(', ');
}

function maintenanceLines(desired: Record<string, HostServicesFile>, now: number): string[] {
  const out: string[] = [];
  const say = (scope: string, m: Maintenance) => {
    const state = now >= Date.parse(m.until) ? 'over since' : m.from && now < Date.parse(m.from) ? `scheduled from ${m.from} until` : 'active until';
    out.push(`maintenance ${scope}: ${state} ${m.until}${m.reason ? ` (${m.reason})` : ''}`);
  };
  for (const node of Object.keys(desired).sort()) {
    const host = desired[node]!;
    if (host.maintenance) say(node, host.maintenance);
    for (const service of Object.keys(host.services).sort()) {
      const m = host.services[service]!.maintenance;
      if (m) say(`${node}/${service}`, m);
    }
  }
  return out;
}
