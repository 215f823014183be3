import path from 'node:path';
import { formatProblems, loadDesired } from '@homelab/hub';
import { createLogger } from '@homelab/logging';
import { parse } from '../args';
import { VALIDATE_HELP } from '../help';

export async function validateCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { hosts: { type: 'string' } } as const);
  if (values.help) {
    console.log(VALIDATE_HELP);
    return 0;
  }
  const hostsDir = path.resolve(values.hosts ?? process.env.HOMELAB_HOSTS_DIR ?? 'hosts');
  const { desired, problems } = await loadDesired(hostsDir, {}, createLogger('validate', { level: 'silent' }));
  if (problems.length) {
    console.error(formatProblems(problems));
    return 1;
  }
  const nodes = Object.keys(desired).sort();
  const services = nodes.reduce((n, node) => n + Object.keys(desired[node]!.services).length, 0);
  console.log(`ok: ${nodes.length} nodes (${nodes.join(', ')}), ${services} services in ${hostsDir}`);
  return 0;
}
