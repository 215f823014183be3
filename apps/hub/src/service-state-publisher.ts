import { topics, type World } from '@homelab/contracts';

/**
 * Retained per-service state for people and Home Assistant (docs/mqtt.md,
 * "Service state"): `homelab/v1/nodes/<node>/services/<service>/state`.
 * Publishes only what changed since the last call; an empty retained
 * payload clears a service that left the world.
 *
 * Nothing goes out before `linkUp`: at start the hub folds the log before its
 * MQTT link exists, and a world change then could not be published. `linkUp`
 * publishes the whole current world, so the retained topics are right as soon
 * as the link is (docs/mqtt.md "Service state").
 */
export class ServiceStatePublisher {
  private readonly sent = new Map<string, string>();
  private linked = false;

  constructor(private readonly publish: (topic: string, payload: unknown) => Promise<void>) {}

  /** The MQTT link is up: publishes every service of `world` (a fresh broker may hold none, an external one stale ones). */
  linkUp(world: World): Promise<void> {
    this.linked = true;
    this.sent.clear();
    return this.sync(world);
  }

  async sync(world: World): Promise<void> {
    if (!this.linked) return;
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
