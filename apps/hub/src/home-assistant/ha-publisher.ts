import type { Action, Clock, HostServicesFile, World } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { PeriodicLoop } from '@homelab/runtime';
import { discoveryMessages, NODE_ID_PREFIX } from './discovery';

export interface HaPublisherDeps {
  discoveryPrefix: string;
  approveButtons: boolean;
  world: () => World;
  /** Desired state by node; null until the supervisor first loaded it (nothing is published or removed before). */
  desired: () => Record<string, HostServicesFile> | null;
  pending: () => Promise<Action[]>;
  /** A retained QoS 1 publish; an empty payload removes what is retained on the topic. */
  publish: (topic: string, payload: string) => Promise<void>;
  clock: Clock;
  log: Logger;
}

/** A burst of world changes (an agent's backlog) costs one cycle. */
const DEBOUNCE_MS = 250;

/**
 * Keeps Home Assistant's retained discovery configs and node states on the
 * broker equal to discoveryMessages() of the current world, desired state and
 * pending actions (docs/home-assistant.md). Its own loop, kicked by changes:
 * it only reads the world, so ingest never waits for it. Publishes what
 * changed since the last cycle, and an empty retained payload for what is gone
 * (a service left desired state, an action is no longer pending). Home
 * Assistant's birth makes it publish everything again.
 */
export class HaPublisher {
  /** Topic → payload last published (what the broker holds for HA). */
  private readonly sent = new Map<string, string>();
  private readonly loop: PeriodicLoop<number>;
  /** Retained messages published since start (GET /healthz). */
  published = 0;
  /** HA announced itself since the last cycle: send every message, changed or not. */
  private resendAll = false;

  constructor(private readonly deps: HaPublisherDeps) {
    this.loop = new PeriodicLoop({
      name: 'home-assistant',
      clock: deps.clock,
      log: deps.log,
      run: () => this.sync(),
      debounceMs: DEBOUNCE_MS,
      backoff: { baseMs: 1000, maxMs: 30_000 },
    });
  }

  start(everyMs: number): void {
    this.loop.start(everyMs, 0);
  }

  /** Something HA shows changed (world, desired state, actions). */
  kick(): void {
    this.loop.kick();
  }

  /** One cycle now; resolves to the number of messages published. */
  runOnce(): Promise<number> {
    return this.loop.runOnce();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /**
   * Home Assistant (re)started and announced itself: it may have lost entities
   * (or the broker its retained configs), so every config is sent again.
   */
  birth(): void {
    this.deps.log.info('home assistant is online: publishing discovery again');
    this.resendAll = true;
    this.loop.kick();
  }

  /**
   * A discovery config the broker holds or passes on (its retained ones come at
   * subscribe time). One of ours (node_id `homelab_…`) not published in this
   * run is counted as sent, so the next cycle removes it unless something still
   * makes it: a service deleted from services.yaml while the hub was down.
   */
  seen(topic: string, payload: Buffer): void {
    if (payload.length === 0 || this.sent.has(topic)) return;
    const levels = topic.slice(this.deps.discoveryPrefix.length + 1).split('/');
    if (!topic.startsWith(`${this.deps.discoveryPrefix}/`) || levels.length !== 4 || !levels[1]!.startsWith(NODE_ID_PREFIX)) return;
    this.sent.set(topic, payload.toString('utf8'));
    this.loop.kick();
  }

  private async sync(): Promise<number> {
    const desired = this.deps.desired();
    if (desired === null) return 0;
    const pending = this.deps.approveButtons ? await this.deps.pending() : [];
    const wanted = new Map<string, string>();
    for (const m of discoveryMessages({ ...this.deps, desired, world: this.deps.world(), pending })) wanted.set(m.topic, JSON.stringify(m.payload));
    const all = this.resendAll;
    this.resendAll = false;
    try {
      return await this.publishDiff(wanted, all);
    } catch (err) {
      // A failed cycle is retried (the loop's backoff): with everything again if HA asked for it.
      this.resendAll ||= all;
      throw err;
    }
  }

  private async publishDiff(wanted: Map<string, string>, all: boolean): Promise<number> {
    let published = 0;
    for (const [topic, body] of wanted) {
      if (!all && this.sent.get(topic) === body) continue;
      await this.deps.publish(topic, body);
      this.sent.set(topic, body);
      published++;
      this.published++;
    }
    for (const topic of [...this.sent.keys()]) {
      if (wanted.has(topic)) continue;
      await this.deps.publish(topic, '');
      this.sent.delete(topic);
      published++;
      this.published++;
    }
    return published;
  }
}
