import { topics, type DesiredStateMessage, type HostServicesFile } from '@homelab/contracts';
import { NodeAliases } from './node-aliases';
import { desiredRevision } from './desired';

/**
 * Publishes each node's desired state retained on `nodes/<node>/desired`
 * whenever its content changes, so an agent that (re)connects gets it at
 * once. A node dropped from `hosts/` gets an empty service list. Under
 * NODE_ALIAS_MAP the agent of a canonical node runs under an alias and may
 * read only its own topic, so every alias gets the canonical node's desired
 * state on its topic too, addressed to it (docs/node-aliases.md).
 */
export class DesiredPublisher {
  /** Agent name → revision last published on its topic. */
  private readonly sent = new Map<string, string>();

  constructor(
    private readonly publish: (topic: string, payload: DesiredStateMessage) => Promise<void>,
    private readonly aliases: NodeAliases = NodeAliases.none,
  ) {}

  /**
   * `seen`: nodes the hub heard from (world nodes). One without a services.yaml
   * gets an empty service list, so its agent reports its containers and
   * `homelab adopt` can draft one (docs/services-yaml.md, "Adopting what runs").
   */
  async sync(desired: Record<string, HostServicesFile>, now: Date, seen: readonly string[] = []): Promise<number> {
    let published = 0;
    const agents = new Set(this.sent.keys());
    for (const node of [...Object.keys(desired), ...seen]) for (const agent of this.aliases.agentNames(node)) agents.add(agent);
    for (const agent of [...agents].sort()) {
      const canonical = this.aliases.canonical(agent);
      const services = (Object.hasOwn(desired, canonical) ? desired[canonical]?.services : undefined) ?? {};
      const revision = desiredRevision(services);
      if (this.sent.get(agent) === revision) continue;
      await this.publish(topics.desired(agent), { node: agent, revision, ts: now.toISOString(), services });
      this.sent.set(agent, revision);
      published += 1;
    }
    return published;
  }
}
