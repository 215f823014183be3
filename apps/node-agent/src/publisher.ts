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
  /** QoS 1 publishes awaiting the broker's PUBACK at once. Default 256. */
  window?: number;
  /**
   * Events sent but not yet acked by the hub, at most. Default 1000: below
   * Mosquitto's default per-subscriber queue (max_queued_messages 1000), which
   * silently drops QoS 1 beyond it — and the hub's cumulative ack would then
   * cover the dropped ones. Also bounds what one ack timeout resends.
   */
  maxUnacked?: number;
}

interface Staging {
  make: () => EventDraft | null;
  resolve: (event: HomelabEvent | null) => void;
}

/**
 * Stamps events, makes them durable in the outbox, then publishes them QoS 1
 * on `nodes/<node>/events` in seq order. Stamping is serialized (seq order);
 * durability is not, so a burst shares the outbox's group commits. Nothing is
 * published before it is durable, and nothing before onConnected() (the agent
 * sends the birth first). An event leaves the outbox only when the hub acks
 * (`nodes/<node>/acks`, upToSeq) — a broker PUBACK proves nothing about the
 * hub's disk. On every (re)connect, and when acks stall for ackTimeoutMs,
 * everything unacknowledged is sent again from the oldest. Drops by the
 * outbox cap become one coalesced `events_dropped` event per batch.
 */
export class EventPublisher implements EventSink {
  private staging: Staging[] = [];
  private draining: Promise<void> = Promise.resolve();
  private drainActive = false;
  /** Highest seq handed to the link on the current connection. */
  private sentUpTo = 0;
  private inFlight = 0;
  private generation = 0;
  private lastProgressAt = 0;
  private timer: unknown;
  private online = false;
  private stopped = false;
  private dropReportQueued = false;
  resends = 0;
  invalid = 0;

  constructor(private readonly deps: EventPublisherDeps) {}

  /** Stamps, validates and stores one event; resolves once it is durable, then publishes it if online. Never throws. */
  emit(draft: EventDraft): Promise<HomelabEvent | null> {
    return this.enqueue(() => draft);
  }

  /** The link is (re)connected and the birth is out: start over from the oldest unacknowledged event. */
  onConnected(): void {
    this.online = true;
    this.restart();
  }

  /** The link is down: what was in flight is lost with the connection (mqtt-link drops it from MQTT.js). */
  onDisconnected(): void {
    this.online = false;
    this.generation += 1;
    this.inFlight = 0;
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
    const first = this.deps.outbox.unacked.at(0);
    const waiting = first !== undefined && first.seq <= this.sentUpTo;
    if (waiting && this.deps.clock.now().getTime() - this.lastProgressAt >= this.deps.ackTimeoutMs) {
      this.resends += 1;
      this.deps.log.info({ fromSeq: first.seq, pending: this.deps.outbox.stats().entries }, 'no ack from the hub; sending unacknowledged events again');
      this.restart();
    } else this.pump();
  }

  /** Schedules runOnce every ackTimeoutMs/2 on the injected clock, and reports drops made while the outbox opened. */
  start(): void {
    this.deps.outbox.onDrops(() => this.reportDrops());
    this.reportDrops();
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
    await this.draining;
  }

  /** Serializes stamping (so seqs enter the outbox in order) but not the wait for durability. */
  private enqueue(make: () => EventDraft | null): Promise<HomelabEvent | null> {
    return new Promise((resolve) => {
      this.staging.push({ make, resolve });
      if (!this.drainActive) {
        this.drainActive = true; // set before the call: drain() may finish synchronously
        this.draining = this.drain();
      }
    });
  }

  /**
   * Stamps queued drafts in order, synchronously while the seq lease covers
   * them: a burst of thousands costs no promise per event here, and reaches
   * the outbox in one piece for its group commit.
   */
  private async drain(): Promise<void> {
    while (this.staging.length) {
      const batch = this.staging;
      this.staging = [];
      for (const [i, item] of batch.entries()) {
        // Let finished I/O (a group commit, a lease write, MQTT) through now and then during a long burst.
        if (i > 0 && i % 1000 === 0) await new Promise<void>((r) => setImmediate(r));
        try {
          const draft = item.make();
          const seq = draft && (this.deps.seq.tryNext() ?? (await this.deps.seq.next()));
          const staged = draft && seq !== null ? this.stamp(draft, seq) : null;
          if (!staged) item.resolve(null);
          else
            staged.durable.then(
              () => {
                this.pump();
                item.resolve(staged.event);
              },
              (err: unknown) => this.failed(err, item),
            );
        } catch (err) {
          this.failed(err, item);
        }
      }
    }
    this.drainActive = false;
  }

  private failed(err: unknown, item: Staging): void {
    this.deps.log.error({ err: errorMessage(err) }, 'could not emit event');
    item.resolve(null);
  }

  private stamp(draft: EventDraft, seq: number): { event: HomelabEvent; durable: Promise<void> } | null {
    const { node, clock, log } = this.deps;
    const parsed = HomelabEvent.safeParse({ ...draft, id: `${node}-${seq}`, node, seq, ts: clock.now().toISOString() });
    if (!parsed.success) {
      this.invalid += 1; // a bug on our side; the seq becomes a gap
      log.error({ type: draft.type, problem: parsed.error.message.slice(0, 500) }, 'event failed its own schema; not sent');
      return null;
    }
    return { event: parsed.data, durable: this.deps.outbox.append(seq, JSON.stringify(parsed.data)) };
  }

  /**
   * One `events_dropped` for everything the cap dropped until it is stamped:
   * drops that happen while one is queued join it instead of adding another.
   */
  private reportDrops(): void {
    if (this.dropReportQueued || this.stopped) return;
    this.dropReportQueued = true;
    void this.enqueue(() => {
      this.dropReportQueued = false;
      const d = this.deps.outbox.takeDrops();
      return d && { type: 'events_dropped', data: { count: d.count, fromSeq: d.fromSeq, toSeq: d.toSeq, reason: 'outbox_full' } };
    });
  }

  private restart(): void {
    this.generation += 1;
    this.sentUpTo = 0;
    this.inFlight = 0;
    this.lastProgressAt = this.deps.clock.now().getTime();
    this.pump();
  }

  /** Hands unsent durable events to the link in seq order: at most `window` awaiting PUBACK, `maxUnacked` awaiting the hub. */
  private pump(): void {
    const { link, log } = this.deps;
    const unacked = this.deps.outbox.unacked;
    const window = this.deps.window ?? 256;
    const maxUnacked = this.deps.maxUnacked ?? 1000;
    while (!this.stopped && this.online && link.connected() && this.inFlight < window) {
      const sent = unacked.indexAfter(this.sentUpTo);
      const next = unacked.at(sent);
      if (!next || sent >= maxUnacked) return;
      // Nothing was awaiting an ack: the ack timeout counts from this send.
      if (sent === 0) this.lastProgressAt = this.deps.clock.now().getTime();
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
