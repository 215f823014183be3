import type { HomelabEvent } from '@homelab/contracts';
import { EventFlow, type EventFlowDeps } from './event-flow';
import { EventStamper, type EventDraft, type EventSink } from './stamper';

export type EventPublisherDeps = EventFlowDeps;

/**
 * The agent's delivery, in two halves (docs/agent-lifecycle.md): the
 * EventStamper makes each draft a stamped, durable event in the outbox, and
 * EventFlow sends durable events to the hub and forgets them once the hub
 * acks. Nothing is published before it is durable; each half can be tested
 * and changed without the other.
 */
export class EventPublisher implements EventSink {
  private readonly stamper: EventStamper;
  private readonly flow: EventFlow;

  constructor(deps: EventPublisherDeps) {
    this.flow = new EventFlow(deps);
    this.stamper = new EventStamper({ ...deps, onDurable: () => this.flow.onDurable() });
  }

  /** Stamps, validates and stores one event; resolves once it is durable, then publishes it if online. Never throws. */
  emit(draft: EventDraft): Promise<HomelabEvent | null> {
    return this.stamper.emit(draft);
  }

  /** The link is (re)connected and the birth is out: start over from the oldest unacknowledged event. */
  onConnected(): void {
    this.flow.onConnected();
  }

  /** The link is down: what was in flight is lost with the connection. */
  onDisconnected(): void {
    this.flow.onDisconnected();
  }

  /** Handles one message on the acks topic. Never throws. */
  onAck(topic: string, payload: Buffer): Promise<void> {
    return this.flow.onAck(topic, payload);
  }

  /** Resends everything when the hub has not acked for ackTimeoutMs although events are out. */
  runOnce(): void {
    this.flow.runOnce();
  }

  /** Reports drops made while the outbox opened, and schedules the flow's ack-timeout check. */
  start(): void {
    this.stamper.start();
    this.flow.start();
  }

  /** Stops sending, then waits for the drafts already queued to be stored. */
  async stop(): Promise<void> {
    const storing = this.stamper.stop(); // reports no more drops from now on
    await this.flow.stop();
    await storing;
  }

  /** Drafts that failed their own schema. */
  get invalid(): number {
    return this.stamper.invalid;
  }
  /** Restarts after ackTimeoutMs without an ack. */
  get resends(): number {
    return this.flow.resends;
  }
  /** Gap acks received, and the rewinds they caused (coalesced: several acks per rewind). */
  get gapAcks(): number {
    return this.flow.gapAcks;
  }
  get gapRewinds(): number {
    return this.flow.gapRewinds;
  }
}
