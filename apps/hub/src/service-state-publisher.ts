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
  /** The world the next pass publishes; null when none is waiting. */
  private latest: World | null = null;
  /** The passes in progress, until no world waits. */
  private draining: Promise<void> | null = null;

  constructor(private readonly publish: (topic: string, payload: unknown) => Promise<void>) {}

  /** The MQTT link is up: publishes every service of `world` (a fresh broker may hold none, an external one stale ones). */
  linkUp(world: World): Promise<void> {
    this.linked = true;
    this.sent.clear();
    return this.sync(world);
  }

  /**
   * Publishes what changed in `world`. Calls while a pass is publishing (each
   * publish waits for its PUBACK from an external broker, and the observer calls
   * this after every fold) do not start a pass of their own: one more pass
   * follows with the latest world, and every caller's promise settles after it.
   * Overlapping passes would each walk the whole world, publish the same changes
   * again and hold their world in memory (docs/benchmarks.md, "A thousand nodes").
   */
  sync(world: World): Promise<void> {
    if (!this.linked) return Promise.resolve();
    this.latest = world;
    this.draining ??= this.drain().finally(() => (this.draining = null));
    return this.draining;
  }

  private async drain(): Promise<void> {
    for (let world = this.latest; world; world = this.latest) {
      this.latest = null;
      await this.pass(world);
    }
  }

  private async pass(world: World): Promise<void> {
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
