import { decode, publishText, withPrevSeq, type Clock } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { PeriodicLoop } from '@homelab/runtime';
import { errorMessage } from '../errors';
import type { InboundCounters } from './inbound';
import type { MqttLink } from './mqtt-port';
import type { Outbox } from './outbox';
import type { SeqAllocator } from './seq';

export interface EventFlowDeps {
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
  /**
   * A gap ack means the broker dropped an event, so its queue for the hub is
   * full of events sent after it, each of which the hub refuses with another
   * gap ack. The rewind waits until these stop for this long (default 20 ms),
   * sending nothing meanwhile — a resend into the full queue would be
   * dropped as well. At most gapHoldoffMs after the first of them, though.
   */
  gapQuietMs?: number;
  /**
   * The longest a rewind waits for quiet; also, for this long after a rewind
   * to seq S, gap acks at or below S are taken for echoes of it (events sent
   * before it) and only answered, by one more rewind, at the end of this
   * time — unless an ack beyond S shows the resend got through. Default 300 ms.
   */
  gapHoldoffMs?: number;
  /**
   * Each rewind halves the events allowed to await the hub's ack (down to
   * this, default 16), and each acked event adds 1/8 back — about +12 % per
   * round trip — up to maxUnacked: a broker that just dropped events is not
   * flooded again at once.
   */
  minUnacked?: number;
}

/**
 * The second half of the agent's delivery (docs/agent-lifecycle.md): flow
 * control. Publishes the outbox's durable events QoS 1 on
 * `nodes/<node>/events` in seq order, nothing before onConnected() (the
 * agent sends the birth first). An event leaves the outbox only when the hub
 * acks (`nodes/<node>/acks`, upToSeq) — a broker PUBACK proves nothing about
 * the hub's disk. On every (re)connect, and when acks stall for
 * ackTimeoutMs, everything unacknowledged is sent again from the oldest.
 *
 * Each published event carries `prevSeq`: the seq sent just before it on
 * this stream (events the cap dropped in between are explained by
 * `events_dropped`), or for the first event of a stream — after a
 * (re)connect or an ack timeout — the highest seq the hub acked (everything
 * older is acked or dropped), or after a gap rewind the hub's upToSeq. The
 * hub writes an event only if it holds prevSeq, so an event the broker
 * dropped is never acked past: the hub answers `gap: true` instead, and this
 * resends everything after the hub's upToSeq — once per gap, as soon as the
 * refusals of what was sent after the hole have stopped (see gapQuietMs),
 * with a smaller allowance of unacked events (minUnacked).
 */
export class EventFlow {
  /** Highest seq handed to the link on the current connection. */
  private sentUpTo = 0;
  private inFlight = 0;
  private generation = 0;
  private lastProgressAt = 0;
  /** Runs runOnce every ackTimeoutMs/2 once started. */
  private readonly ticks: PeriodicLoop<void>;
  private online = false;
  private stopped = false;
  /** Highest upToSeq of the hub's (non-gap) acks in this process. */
  private hubAcked = 0;
  /** prevSeq of the next event handed to the link: the seq sent last on this stream, or where the stream (re)started. */
  private streamPrev = 0;
  /** The last gap rewind (to which seq, when), while its hold-off may matter. */
  private lastRewind: { to: number; at: number } | null = null;
  /** A rewind waiting for its moment (nothing is sent meanwhile): to after `upTo`, first asked for at `since`. */
  private gapWait: { upTo: number; since: number; timer: unknown } | null = null;
  /** Events allowed to await the hub's ack now (≤ maxUnacked): halved by every rewind, regrown by acks. */
  private allowance: number;
  private gapLoggedAt = Number.NEGATIVE_INFINITY;
  /** Restarts after ackTimeoutMs without an ack. */
  resends = 0;
  /** Gap acks received, and the rewinds they caused (coalesced: several acks per rewind). */
  gapAcks = 0;
  gapRewinds = 0;

  constructor(private readonly deps: EventFlowDeps) {
    this.allowance = deps.maxUnacked ?? 1000;
    this.ticks = new PeriodicLoop({ name: 'publisher tick', clock: deps.clock, log: deps.log, run: () => this.runOnce() });
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
    this.forgetGap();
  }

  /** Handles one message on the acks topic. Never throws. */
  async onAck(topic: string, payload: Buffer): Promise<void> {
    const { log, counters, node } = this.deps;
    const decoded = decode('acks', payload, this.deps.maxPayloadBytes);
    if (!decoded.ok) return counters.reject(log, decoded.reason, topic, payload, decoded.detail);
    if (decoded.data.node !== node) return counters.reject(log, 'wrong_node', topic, payload);
    const { upToSeq, gap } = decoded.data;
    // The hub has seqs up to here: never hand them out again (heals a lost seq lease).
    this.deps.seq.ensureAbove(upToSeq);
    // A gap ack acks nothing (whether its upToSeq is durable yet is not said): the normal acks do that.
    if (gap) return this.onGap(upToSeq);
    this.hubAcked = Math.max(this.hubAcked, upToSeq);
    // The hub got past the gap a rewind waits for: the resend went through, those gap acks were echoes.
    if (this.gapWait && upToSeq > this.gapWait.upTo) this.forgetGap();
    try {
      const removed = await this.deps.outbox.ack(upToSeq);
      if (removed > 0) {
        this.lastProgressAt = this.deps.clock.now().getTime();
        this.grow(removed);
      }
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

  /** Schedules runOnce every ackTimeoutMs/2 on the injected clock. */
  start(): void {
    this.ticks.start(Math.max(100, Math.floor(this.deps.ackTimeoutMs / 2)), 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const ticking = this.ticks.stop();
    this.forgetGap();
    await ticking;
  }

  /** An event became durable in the outbox: send it if the window allows. */
  onDurable(): void {
    this.pump();
  }

  private restart(): void {
    this.generation += 1;
    this.sentUpTo = 0;
    this.inFlight = 0;
    // From the oldest unacked event: everything before it is acked (or dropped by the cap, which
    // events_dropped explains), so the hub holds its predecessor as far as we can know.
    this.streamPrev = Math.max(this.hubAcked, this.deps.outbox.ackedUpTo());
    this.forgetGap();
    this.lastProgressAt = this.deps.clock.now().getTime();
    this.pump();
  }

  /**
   * The hub refused an event whose prevSeq it does not hold (the broker
   * dropped something before it) and holds up to `upTo`. One rewind per gap:
   * the broker's queue to the hub still holds events sent after the hole,
   * and the hub refuses each of them with a gap ack of its own. So sending
   * stops, and the rewind comes once those have been quiet for gapQuietMs
   * (the queue has drained, the resend fits), at most gapHoldoffMs after the
   * first. Gap acks at or below the last rewind, within gapHoldoffMs of it,
   * are its echoes: one more rewind only at the end of that time. An ack
   * beyond `upTo` meanwhile cancels the wait: the hub got past the gap.
   */
  private onGap(upTo: number): void {
    this.gapAcks += 1;
    // Offline, the next connection starts over anyway; and when nothing after `upTo` was sent on
    // this stream, the refused event is from before a restart whose resend is already under way.
    if (!this.online || this.stopped || upTo >= this.sentUpTo) return;
    const { clock } = this.deps;
    const now = clock.now().getTime();
    const holdoff = this.deps.gapHoldoffMs ?? 300;
    const last = this.lastRewind;
    const echo = last !== null && upTo <= last.to && now - last.at < holdoff;
    const since = this.gapWait?.since ?? now;
    const due = Math.min(since + holdoff, Math.max(now + (this.deps.gapQuietMs ?? 20), echo ? last.at + holdoff : 0));
    if (this.gapWait) clock.clearTimeout(this.gapWait.timer);
    const timer = clock.setTimeout(() => {
      const wait = this.gapWait;
      this.gapWait = null;
      if (!wait || !this.online || this.stopped) return;
      if (wait.upTo < this.sentUpTo) this.rewind(wait.upTo);
      else this.pump();
    }, due - now);
    this.gapWait = { upTo, since, timer };
  }

  /** Resends everything after `upTo`, in seq order, through the same window (what is in flight stays counted). */
  private rewind(upTo: number): void {
    const { log, clock } = this.deps;
    const now = clock.now().getTime();
    const acked = Math.max(this.hubAcked, this.deps.outbox.ackedUpTo());
    this.gapRewinds += 1;
    this.allowance = Math.min(this.deps.maxUnacked ?? 1000, Math.max(this.deps.minUnacked ?? 16, Math.floor(this.allowance / 2)));
    const info = { afterSeq: upTo, sentUpTo: this.sentUpTo, allowance: this.allowance, rewinds: this.gapRewinds, gapAcks: this.gapAcks };
    if (upTo < acked) log.warn({ holds: upTo, acked }, 'the hub holds less than it acked (its log lost events); they are no longer in the outbox');
    else if (now - this.gapLoggedAt >= 60_000) {
      // Once a minute at most: under sustained overload this happens several times a second.
      this.gapLoggedAt = now;
      log.info(info, 'hub reported a gap (the broker dropped an event); resending from there');
    } else log.debug(info, 'hub reported a gap; resending from there');
    this.lastRewind = { to: upTo, at: now };
    this.sentUpTo = upTo;
    this.streamPrev = upTo;
    this.lastProgressAt = now;
    this.pump();
  }

  /** Acked events let the allowance grow back towards maxUnacked: 1/8 per event, ~+12 % per round trip. */
  private grow(acked: number): void {
    const max = this.deps.maxUnacked ?? 1000;
    if (this.allowance < max) this.allowance = Math.min(max, this.allowance + acked / 8);
  }

  private forgetGap(): void {
    if (this.gapWait) this.deps.clock.clearTimeout(this.gapWait.timer);
    this.gapWait = null;
    this.lastRewind = null;
  }

  /**
   * Hands unsent durable events to the link in seq order: at most `window`
   * awaiting PUBACK, at most the allowance (≤ maxUnacked) awaiting the hub,
   * nothing while a gap rewind waits.
   */
  private pump(): void {
    const { link, log } = this.deps;
    const unacked = this.deps.outbox.unacked;
    const window = this.deps.window ?? 256;
    while (!this.stopped && this.online && !this.gapWait && link.connected() && this.inFlight < window) {
      const sent = unacked.indexAfter(this.sentUpTo);
      const next = unacked.at(sent);
      if (!next || sent >= this.allowance) return;
      // Nothing was awaiting an ack: the ack timeout counts from this send.
      if (sent === 0) this.lastProgressAt = this.deps.clock.now().getTime();
      const line = withPrevSeq(next.line, this.streamPrev);
      this.streamPrev = next.seq;
      this.sentUpTo = next.seq;
      this.inFlight += 1;
      const gen = this.generation;
      publishText(link, 'events', [this.deps.node], line).then(
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
