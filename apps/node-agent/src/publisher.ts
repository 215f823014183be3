import { EventAck, HomelabEvent, topics, type Clock } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { errorMessage } from './errors';
import { decodePayload, type InboundCounters } from './inbound';
import type { MqttLink } from './mqtt-port';
import type { Outbox } from './outbox';
import type { SeqAllocator } from './seq';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event before the publisher stamps it with id, node, seq and ts. */
export type EventDraft = DistributiveOmit<HomelabEvent, 'id' | 'node' | 'seq' | 'ts'>;

/** Where loops send their events. */
export interface EventSink {
  emit(draft: EventDraft): Promise<HomelabEvent | null>;
}

export interface EventPublisherDeps {
  node: string;
  seq: SeqAllocator;
  outbox: Outbox;
  link: Pick<MqttLink, 'publish' | 'connected'>;
  clock: Clock;
  log: Logger;
  counters: InboundCounters;
  ackTimeoutMs: number;
  maxPayloadBytes: number;
  /** QoS 1 publishes awaiting the broker's PUBACK at once. Default 64. */
  window?: number;
}

/**
 * Stamps events, makes them durable in the outbox, then publishes them QoS 1
 * on `nodes/<node>/events` in seq order. An event leaves the outbox only when
 * the hub acks (`nodes/<node>/acks`, upToSeq) — a broker PUBACK proves nothing
 * about the hub's disk. On every (re)connect, and when acks stall for
 * ackTimeoutMs, everything unacknowledged is sent again from the oldest.
 */
export class EventPublisher implements EventSink {
  private chain: Promise<unknown> = Promise.resolve();
  /** Highest seq handed to the link on the current connection. */
  private sentUpTo = 0;
  private inFlight = 0;
  private generation = 0;
  private lastProgressAt = 0;
  private timer: unknown;
  private stopped = false;
  resends = 0;
  invalid = 0;

  constructor(private readonly deps: EventPublisherDeps) {}

  /** Stamps, validates and stores one event, then publishes it if connected. Never throws. */
  emit(draft: EventDraft): Promise<HomelabEvent | null> {
    const run = this.chain.then(() => this.store(draft));
    this.chain = run.catch(() => undefined);
    return run.catch((err: unknown) => {
      this.deps.log.error({ err: errorMessage(err), type: draft.type }, 'could not emit event');
      return null;
    });
  }

  /** The link is (re)connected: start over from the oldest unacknowledged event. */
  onConnected(): void {
    this.restart();
  }

  /** Handles one message on the acks topic. Never throws. */
  async onAck(topic: string, payload: Buffer): Promise<void> {
    const { log, counters, node } = this.deps;
    const decoded = decodePayload(payload, EventAck, this.deps.maxPayloadBytes);
    if (!decoded.ok) return counters.reject(log, decoded.reason, topic, payload, decoded.detail);
    if (decoded.data.node !== node) return counters.reject(log, 'wrong_node', topic, payload);
    // The hub has seqs up to here: never hand them out again (heals a lost seq lease).
    this.deps.seq.ensureAbove(decoded.data.upToSeq);
    try {
      const removed = await this.deps.outbox.ack(decoded.data.upToSeq);
      if (removed > 0) this.lastProgressAt = this.deps.clock.now().getTime();
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'outbox ack failed');
    }
    this.pump();
  }

  /** Resends everything when the hub has not acked for ackTimeoutMs although events are out. */
  runOnce(): void {
    const first = this.deps.outbox.pending()[0];
    const waiting = first !== undefined && first.seq <= this.sentUpTo;
    if (waiting && this.deps.clock.now().getTime() - this.lastProgressAt >= this.deps.ackTimeoutMs) {
      this.resends += 1;
      this.deps.log.info({ fromSeq: first.seq, pending: this.deps.outbox.stats().entries }, 'no ack from the hub; sending unacknowledged events again');
      this.restart();
    } else this.pump();
  }

  /** Schedules runOnce every ackTimeoutMs/2 on the injected clock. */
  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.runOnce();
      this.timer = this.deps.clock.setTimeout(tick, Math.max(100, Math.floor(this.deps.ackTimeoutMs / 2)));
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.deps.clock.clearTimeout(this.timer);
    await this.chain;
  }

  private async store(draft: EventDraft): Promise<HomelabEvent | null> {
    const { node, clock, log } = this.deps;
    const seq = await this.deps.seq.next();
    const parsed = HomelabEvent.safeParse({ ...draft, id: `${node}-${seq}`, node, seq, ts: clock.now().toISOString() });
    if (!parsed.success) {
      this.invalid += 1; // a bug on our side; the seq becomes a gap
      log.error({ type: draft.type, problem: parsed.error.message.slice(0, 500) }, 'event failed its own schema; not sent');
      return null;
    }
    await this.deps.outbox.append(seq, JSON.stringify(parsed.data));
    this.pump();
    return parsed.data;
  }

  private restart(): void {
    this.generation += 1;
    this.sentUpTo = 0;
    this.inFlight = 0;
    this.lastProgressAt = this.deps.clock.now().getTime();
    this.pump();
  }

  /** Hands unsent events to the link in seq order, at most `window` awaiting PUBACK. */
  private pump(): void {
    const { outbox, link, log } = this.deps;
    const window = this.deps.window ?? 64;
    const pending = outbox.pending();
    while (!this.stopped && link.connected() && this.inFlight < window) {
      const next = pending[outbox.indexAfter(this.sentUpTo)];
      if (!next) return;
      // Nothing was awaiting an ack: the ack timeout counts from this send.
      if ((pending[0]?.seq ?? Infinity) > this.sentUpTo) this.lastProgressAt = this.deps.clock.now().getTime();
      this.sentUpTo = next.seq;
      this.inFlight += 1;
      const gen = this.generation;
      link.publish(topics.events(this.deps.node), next.line, { qos: 1 }).then(
        () => this.settled(gen),
        (err: unknown) => {
          log.debug({ err: errorMessage(err), seq: next.seq }, 'event publish failed; resent after reconnect');
          this.settled(gen);
        },
      );
    }
  }

  private settled(gen: number): void {
    if (gen !== this.generation) return;
    this.inFlight -= 1;
    this.pump();
  }
}
