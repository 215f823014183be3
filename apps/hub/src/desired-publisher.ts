import { topics, type DesiredStateMessage, type HostServicesFile } from '@homelab/contracts';
import { desiredRevision } from './desired';

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
