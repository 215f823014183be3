import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import { channelsTo, filterOf, topics } from '@homelab/contracts';

export interface Received {
  topic: string;
  body: any;
  at: number;
}

const PING = 'homelab/v1/test/ping';

export interface HubSimOptions {
  /** Ack events (default true). */
  ack?: boolean;
  /**
   * A slow subscriber: each message takes this long (fractions allowed: the
   * pace is kept on average, not with a timer per message). MQTT.js reads
   * the next message, and PUBACKs this one, only after it, so the broker
   * queues for us — and Mosquitto drops QoS 1 beyond max_queued_messages.
   */
  slowMs?: number;
}

/**
 * Plays the hub for agent integration tests: records what agents publish on
 * the topics the hub subscribes to (events, results, status), and writes and
 * acks events like the hub does. An event is written only when its `prevSeq`
 * is at or below the node's high-water seq (`held`; no prevSeq: accepted as
 * before); a higher seq raises `held`, a lower one is a duplicate. Refused
 * events get a gap ack `{node, upToSeq: held, gap: true}` each, at once.
 * Other acks (`upToSeq: held`) go out after the "write", coalesced to one
 * per node per event-loop turn, the way a group commit acks a batch.
 */
export class HubSim {
  readonly received: Received[] = [];
  /** Events refused for a prevSeq the hub did not hold (each got a gap ack when acking). */
  refused = 0;
  private readonly ackDue = new Map<string, number>();
  private readonly held = new Map<string, number>();
  private readonly log = new Map<string, number[]>();
  private pings = 0;

  private constructor(
    readonly client: MqttClient,
    private readonly acking: { on: boolean },
  ) {}

  static async start(url: string, opts: HubSimOptions = {}): Promise<HubSim> {
    const client = mqtt.connect(url, { clientId: 'homelab-hub', username: 'homelab-hub', reconnectPeriod: 100 });
    const sim = new HubSim(client, { on: opts.ack ?? true });
    client.on('message', (topic, payload) => sim.onMessage(topic, payload));
    const slowMs = opts.slowMs;
    if (slowMs) {
      let freeAt = 0; // when the previous message is done
      client.handleMessage = (_packet, done) => {
        const now = performance.now();
        freeAt = Math.max(freeAt, now) + slowMs;
        if (freeAt - now >= 1) setTimeout(() => done(), freeAt - now);
        else setImmediate(() => done());
      };
    }
    // What the hub subscribes to (not its own acks: at a slow hub they would fill the broker's queue too).
    const subscriptions = [...channelsTo('hub').map(filterOf), PING];
    await client.subscribeAsync(subscriptions, { qos: 1 });
    return sim;
  }

  set ack(on: boolean) {
    this.acking.on = on;
  }

  /** Resolves once the subscription works (e.g. after a broker restart): a ping comes back. */
  async ready(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const id = ++this.pings;
      if (this.client.connected) this.client.publish(PING, String(id), { qos: 0 });
      await new Promise((r) => setTimeout(r, 100));
      if (this.received.some((m) => m.topic === PING && m.body === id)) return;
      if (Date.now() > deadline) throw new Error('hub simulator: subscription did not come back');
    }
  }

  /** Events of `node` in arrival order (resends included). */
  events(node: string): any[] {
    return this.received.filter((m) => m.topic === topics.events(node)).map((m) => m.body);
  }

  statuses(node: string): any[] {
    return this.received.filter((m) => m.topic === topics.status(node)).map((m) => m.body);
  }

  /** Seqs of `node` the hub wrote, in write order (its log: each once, ascending). */
  written(node: string): number[] {
    return [...(this.log.get(node) ?? [])];
  }

  /** Seqs of `node` in order of first arrival, refused ones included. */
  firstArrivals(node: string): number[] {
    const seen = new Set<number>();
    const out: number[] = [];
    for (const e of this.events(node)) {
      if (seen.has(e.seq)) continue;
      seen.add(e.seq);
      out.push(e.seq);
    }
    return out;
  }

  clear(): void {
    this.received.length = 0;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true).catch(() => undefined);
  }

  private onMessage(topic: string, payload: Buffer): void {
    let body: any;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      body = payload.toString('utf8');
    }
    this.received.push({ topic, body, at: Date.now() });
    const m = /^homelab\/v1\/nodes\/([^/]+)\/events$/.exec(topic);
    if (!m || typeof body?.seq !== 'number') return;
    const node = m[1]!;
    const held = this.held.get(node) ?? 0;
    if (typeof body.prevSeq === 'number' && body.prevSeq > held) {
      this.refused += 1;
      if (this.acking.on) this.client.publish(topics.acks(node), JSON.stringify({ node, upToSeq: held, gap: true }), { qos: 1 });
      return;
    }
    if (body.seq > held) {
      this.held.set(node, body.seq);
      const written = this.log.get(node) ?? [];
      written.push(body.seq);
      this.log.set(node, written);
    }
    if (!this.acking.on) return;
    const due = this.ackDue.get(node);
    this.ackDue.set(node, Math.max(due ?? 0, this.held.get(node) ?? 0));
    if (due !== undefined) return;
    setImmediate(() => {
      const upToSeq = this.ackDue.get(node)!;
      this.ackDue.delete(node);
      this.client.publish(topics.acks(node), JSON.stringify({ node, upToSeq }), { qos: 1 });
    });
  }
}
