import { HomelabEvent, type Clock } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { errorMessage } from '../errors';
import type { Outbox } from './outbox';
import type { SeqAllocator } from './seq';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event before the stamper gives it id, node, seq and ts. */
export type EventDraft = DistributiveOmit<HomelabEvent, 'id' | 'node' | 'seq' | 'ts'>;

/** Where loops send their events. */
export interface EventSink {
  emit(draft: EventDraft): Promise<HomelabEvent | null>;
}

export interface EventStamperDeps {
  node: string;
  seq: SeqAllocator;
  outbox: Outbox;
  clock: Clock;
  log: Logger;
  /** An event is durable in the outbox: the sending side may have something new to send. */
  onDurable: () => void;
}

interface Staging {
  make: () => EventDraft | null;
  resolve: (event: HomelabEvent | null) => void;
}

/**
 * The first half of the agent's delivery (docs/agent-lifecycle.md): stamps
 * drafts with id, node, seq and ts, checks them against their own schema and
 * makes them durable in the outbox. Stamping is serialized, so seqs enter
 * the outbox in order; durability is not, so a burst shares the outbox's
 * group commits. Drops by the outbox cap become one coalesced
 * `events_dropped` event per batch. Sending is EventFlow's business: this
 * knows nothing of the link.
 */
export class EventStamper implements EventSink {
  private staging: Staging[] = [];
  private draining: Promise<void> = Promise.resolve();
  private drainActive = false;
  private dropReportQueued = false;
  private stopped = false;
  /** Drafts that failed their own schema (a bug on our side; each seq becomes a gap). */
  invalid = 0;

  constructor(private readonly deps: EventStamperDeps) {}

  /** Stamps, validates and stores one event; resolves with it once durable, or null. Never throws. */
  emit(draft: EventDraft): Promise<HomelabEvent | null> {
    return this.enqueue(() => draft);
  }

  /** Reports drops the outbox made while it opened, and every later batch of them. */
  start(): void {
    this.deps.outbox.onDrops(() => this.reportDrops());
    this.reportDrops();
  }

  /** Waits for the drafts already queued; reports no more drops. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.draining;
  }

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
                this.deps.onDurable();
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
      this.invalid += 1;
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
}
