import { createHash } from 'node:crypto';
import type { HostServicesFile } from '@homelab/contracts';
import { agentServices } from './load-desired';

/** Stable JSON (sorted keys) so the revision only changes when the content does. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** `revision` of the desired-state message carrying these services (as agents get them). */
export function desiredRevision(services: HostServicesFile['services']): string {
  return createHash('sha256').update(stableJson(services)).digest('hex').slice(0, 16);
}

const byHost = new WeakMap<HostServicesFile, string>();

/**
 * The revision the node's agent receives for this host file: hub-only keys
 * (policy, maintenance) removed, so editing them changes nothing for the
 * agent. Cached per parsed file (the loader keeps unchanged files' objects).
 */
export function agentRevision(host: HostServicesFile): string {
  let rev = byHost.get(host);
  if (rev === undefined) {
    rev = desiredRevision(agentServices(host.services));
    byHost.set(host, rev);
  }
  return rev;
}
