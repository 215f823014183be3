import mqtt, { type MqttClient } from 'mqtt';
import { topics } from '@homelab/contracts';

export interface Received {
  topic: string;
  body: any;
  at: number;
}

/**
 * Plays the hub for agent integration tests: records everything agents
 * publish under `homelab/v1/`, and acks events like the hub does after its
 * durable write — coalesced to one ack per node per event-loop turn, the way
 * a group commit acks a batch.
 */
export class HubSim {
  readonly received: Received[] = [];
  private readonly ackDue = new Map<string, number>();
  private pings = 0;

  private constructor(
    readonly client: MqttClient,
    private readonly acking: { on: boolean },
  ) {}

  static async start(url: string, opts: { ack?: boolean } = {}): Promise<HubSim> {
    const client = mqtt.connect(url, { clientId: 'homelab-hub', username: 'homelab-hub', reconnectPeriod: 100 });
    const sim = new HubSim(client, { on: opts.ack ?? true });
    client.on('message', (topic, payload) => sim.onMessage(topic, payload));
    await client.subscribeAsync('homelab/v1/#', { qos: 1 });
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
      if (this.client.connected) this.client.publish('homelab/v1/test/ping', String(id), { qos: 0 });
      await new Promise((r) => setTimeout(r, 100));
      if (this.received.some((m) => m.topic === 'homelab/v1/test/ping' && m.body === id)) return;
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

  /** Seqs of `node` in order of first arrival (what a dedup-by-seq hub folds, in that order). */
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
    if (!m || !this.acking.on || typeof body?.seq !== 'number') return;
    const node = m[1]!;
    const due = this.ackDue.get(node);
    this.ackDue.set(node, Math.max(due ?? 0, body.seq));
    if (due !== undefined) return;
    setImmediate(() => {
      const upToSeq = this.ackDue.get(node)!;
      this.ackDue.delete(node);
      this.client.publish(topics.acks(node), JSON.stringify({ node, upToSeq }), { qos: 1 });
    });
  }
}
