import { createHash } from 'node:crypto';
import { topics, type DesiredStateMessage, type HostServicesFile } from '@homelab/contracts';

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

export function desiredRevision(services: HostServicesFile['services']): string {
  return createHash('sha256').update(stableJson(services)).digest('hex').slice(0, 16);
}

/**
 * Publishes each node's desired state retained on `nodes/<node>/desired`
 * whenever its content changes, so an agent that (re)connects gets it at
 * once. A node dropped from `hosts/` gets an empty service list.
 */
export class DesiredPublisher {
  private readonly sent = new Map<string, string>();

  constructor(private readonly publish: (topic: string, payload: DesiredStateMessage) => Promise<void>) {}

  async sync(desired: Record<string, HostServicesFile>, now: Date): Promise<number> {
    let published = 0;
    const nodes = new Set([...Object.keys(desired), ...this.sent.keys()]);
    for (const node of [...nodes].sort()) {
      const services = desired[node]?.services ?? {};
      const revision = desiredRevision(services);
      if (this.sent.get(node) === revision) continue;
      await this.publish(topics.desired(node), { node, revision, ts: now.toISOString(), services });
      this.sent.set(node, revision);
      published += 1;
    }
    return published;
  }
}
