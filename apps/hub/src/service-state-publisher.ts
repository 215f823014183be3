import { topics, type World } from '@homelab/contracts';

/**
 * Retained per-service state for people and Home Assistant (BRIEF.md "MQTT
 * conventions"): `homelab/v1/nodes/<node>/services/<service>/state`.
 * Publishes only what changed since the last call; an empty retained
 * payload clears a service that left the world.
 */
export class ServiceStatePublisher {
  private readonly sent = new Map<string, string>();

  constructor(private readonly publish: (topic: string, payload: unknown) => Promise<void>) {}

  async sync(world: World): Promise<void> {
    for (const s of Object.values(world.services)) {
      const payload = { node: s.node, service: s.service, status: s.status, reason: s.reason ?? null, since: s.since };
      const key = `${s.node}/${s.service}`;
      const body = JSON.stringify(payload);
      if (this.sent.get(key) === body) continue;
      await this.publish(topics.serviceState(s.node, s.service), payload);
      this.sent.set(key, body);
    }
    // A service that left the world (pruned as a ghost): clear its retained state.
    for (const key of [...this.sent.keys()]) {
      if (Object.hasOwn(world.services, key)) continue;
      const [node, service] = key.split('/') as [string, string];
      await this.publish(topics.serviceState(node, service), '');
      this.sent.delete(key);
    }
  }
}
