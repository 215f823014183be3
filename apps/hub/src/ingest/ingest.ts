import { z } from 'zod';
import {
  CHANNELS,
  HUB_STREAM,
  MAX_EVENTS_PER_MESSAGE,
  decode,
  handlerOf,
  parseTopic,
  publish,
  type Clock,
  type CommandResult,
  type Handlers,
  type HomelabEvent,
  type NodeStatus,
  type ParsedTopic,
  type StoredEvent,
} from '@homelab/contracts';
import { decodeEventPayload, eventOf, isCanonicalEvent, type AppendItem, type EventLog } from '@homelab/event-log';
import { preview, type Logger } from '@homelab/logging';
import { IngestCounters, type RejectReason } from './counters';

export interface IngestDeps {
  eventLog: EventLog;
  publish: (topic: string, payload: unknown, opts?: { qos?: 0 | 1; retain?: boolean }) => Promise<void>;
  /** Called after events were durably written (wakes the observer). */
  onWritten: (written: StoredEvent[]) => void;
  onResult: (result: CommandResult) => Promise<unknown>;
  /** Current folded status of a node, to avoid logging the same birth twice. */
  nodeStatus: (node: string) => { online: boolean | null; session: number | null; connection?: number } | undefined;
  /**
   * Every valid birth (online status) of a node, also one already logged: its
   * agent has just (re)connected and subscribed, so what was sent to it while
   * it was away can be sent again now.
   */
  onBirth?: (node: string) => void;
  clock: Clock;
  log: Logger;
  maxPayloadBytes: number;
}

/**
 * The events of a payload. Events as agents send them (zod output, keys in
 * schema order) pass the log's exact fast check and are used as parsed;
 * anything else goes through zod, which also words the rejection.
 */
function parseEvents(json: unknown): { ok: true; events: HomelabEvent[] } | { ok: false; error: string } {
  if (Array.isArray(json)) {
    if (json.length >= 1 && json.length <= MAX_EVENTS_PER_MESSAGE && json.every(isCanonicalEvent)) return { ok: true, events: json };
  } else if (isCanonicalEvent(json)) {
    return { ok: true, events: [json] };
  }
  const res = CHANNELS.events.schema.safeParse(json);
  if (!res.success) return { ok: false, error: z.prettifyError(res.error) };
  return { ok: true, events: Array.isArray(res.data) ? res.data : [res.data] };
}

const DONE: Promise<void> = Promise.resolve();
const utf8 = new TextDecoder('utf-8', { fatal: true });

interface EventBatch {
  /** Events as decoded: with their exact text when the fast decoder took them (the log writes that text). */
  events: AppendItem[];
  /** Messages the events came in (what a failed write counts). */
  messages: number;
  settled: Promise<void>;
}

/** Per node: the batch still taking events, and the commit before it (commits of one node run one at a time). */
interface NodeQueue {
  open: EventBatch | null;
  last: Promise<void>;
}

/**
 * The events of a batch that may be written: in seq order, each one's
 * `prevSeq` (when given) at or below what the log holds or the batch holds
 * before it. An event whose predecessor never arrived (a broker dropped it)
 * is refused, so the log never acks past a hole (docs/reliability.md, "No ack
 * past a hole").
 */
export function admitChained<T extends AppendItem>(items: T[], held: number): { admitted: T[]; refused: number; held: number } {
  const sorted = items.length > 1 ? [...items].sort((a, b) => eventOf(a).seq - eventOf(b).seq) : items;
  const admitted: T[] = [];
  let refused = 0;
  for (const item of sorted) {
    const e = eventOf(item);
    if (e.prevSeq !== undefined && e.prevSeq > held) {
      refused++;
      continue;
    }
    admitted.push(item);
    if (e.seq > held) held = e.seq;
  }
  return { admitted, refused, held };
}

export class Ingest {
  readonly counters = new IngestCounters();
  private hubChain: Promise<unknown> = Promise.resolve();
  /** Per node, the events received while its previous commit ran (or in this turn of the event loop): appended together, in one call. */
  private readonly queues = new Map<string, NodeQueue>();
  /** Per node, the ack about to be sent: appends completing in the same turn share it. */
  private readonly acks = new Map<string, { upToSeq: number; sent: Promise<void> }>();
  /** Parsed topics: agents publish on a few topics over and over. */
  private readonly topicCache = new Map<string, ParsedTopic | null>();

  constructor(private readonly deps: IngestDeps) {}

  /**
   * Never rejects. Resolves once the message is dealt with: for events, once
   * they are durable and acked. Events take a synchronous path to their
   * node's batch and share its promise, so a message costs no promise of its own.
   */
  handle(topic: string, payload: Buffer): Promise<void> {
    try {
      return this.dispatch(topic, payload) ?? DONE;
    } catch (err) {
      this.failed(err, topic, 1);
      return DONE;
    }
  }

  private failed(err: unknown, topic: string, messages: number): void {
    this.deps.log.error({ err, topic, messages }, 'ingest failed');
    this.counters.reject('write_failed', messages);
  }

  private topic(topic: string): ParsedTopic | null {
    let parsed = this.topicCache.get(topic);
    if (parsed === undefined) {
      parsed = parseTopic(topic);
      if (this.topicCache.size >= 10_000) this.topicCache.clear();
      this.topicCache.set(topic, parsed);
    }
    return parsed;
  }

  private dispatch(topic: string, payload: Buffer): Promise<void> | undefined {
    const parsed = this.topic(topic);
    if (!parsed) return this.rejectMsg('unknown_topic', topic, payload);
    // Our own publications (commands, desired, acks) echo back only if subscribed; ignore.
    return handlerOf(this.handlers, parsed)?.(parsed, payload, topic);
  }

  /** One handler per channel the hub receives (CHANNELS). Each never rejects. */
  private readonly handlers: Handlers<'hub', Promise<void> | undefined> = {
    events: ({ node }, payload, topic) => {
      if (payload.length > this.deps.maxPayloadBytes) return this.rejectMsg('too_large', topic, payload);
      // An agent's event as JSON.stringify wrote it is decoded without JSON.parse (and written
      // without stringifying it again); the result is what the path below would give.
      const decoded = decodeEventPayload(payload);
      if (decoded !== undefined) return this.onEvents(node, topic, [decoded], payload);
      let json: unknown;
      try {
        // Strict: invalid UTF-8 is refused, not silently turned into U+FFFD and stored.
        json = JSON.parse(utf8.decode(payload));
      } catch {
        return this.rejectMsg('not_json', topic, payload);
      }
      return this.onEvent(node, topic, json, payload);
    },
    status: ({ node }, payload, topic) => {
      if (payload.length === 0) return; // a cleared retained status
      const res = decode('status', payload, this.deps.maxPayloadBytes);
      if (!res.ok) return this.rejectMsg(res.reason, topic, payload, res.detail);
      return this.onStatus(node, topic, res.data, payload).catch((err: unknown) => this.failed(err, topic, 1));
    },
    results: ({ node }, payload, topic) => {
      const res = decode('results', payload, this.deps.maxPayloadBytes);
      if (!res.ok) return this.rejectMsg(res.reason, topic, payload, res.detail);
      return this.onResult(node, topic, res.data, payload).catch((err: unknown) => this.failed(err, topic, 1));
    },
  };

  private onEvent(node: string, topic: string, json: unknown, raw: Buffer): Promise<void> | undefined {
    // Agents may batch: accept one event or an array of them.
    const res = parseEvents(json);
    if (!res.ok) return this.rejectMsg('invalid_schema', topic, raw, res.error);
    return this.onEvents(node, topic, res.events, raw);
  }

  private onEvents(node: string, topic: string, events: AppendItem[], raw: Buffer): Promise<void> | undefined {
    if (events.some((e) => eventOf(e).node !== node)) return this.rejectMsg('node_mismatch', topic, raw);
    return this.enqueue(node, topic, events);
  }

  /**
   * Messages of one node arriving in the same turn of the event loop, or
   * while its previous commit is still being written (a burst, a backlog),
   * become one append and one ack. A node's commits run one after another,
   * so each checks the `prevSeq` chain against what is durable. The promise
   * resolves once the batch is durable and acked, or failed (logged and
   * counted per message; the agent resends).
   */
  private enqueue(node: string, topic: string, events: AppendItem[]): Promise<void> {
    let q = this.queues.get(node);
    if (!q) {
      q = { open: null, last: DONE };
      this.queues.set(node, q);
    }
    let batch = q.open;
    if (!batch) {
      const queue = q;
      const b: EventBatch = { events: [], messages: 0, settled: DONE };
      b.settled = queue.last
        .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
        .then(() => {
          queue.open = null;
          return this.commit(node, b.events);
        })
        .catch((err: unknown) => this.failed(err, topic, b.messages))
        .finally(() => {
          if (this.queues.get(node) === queue && queue.open === null && queue.last === b.settled) this.queues.delete(node);
        });
      queue.open = b;
      queue.last = b.settled;
      batch = b;
    }
    for (const e of events) batch.events.push(e);
    batch.messages++;
    return batch.settled;
  }

  private async commit(node: string, events: AppendItem[]): Promise<void> {
    const { admitted, refused, held } = admitChained(events, this.deps.eventLog.highestSeq(node) ?? 0);
    if (refused) this.counters.reject('gap', refused);
    if (admitted.length) {
      const out = await this.deps.eventLog.append(node, admitted, this.deps.clock.now());
      this.counters.accepted += out.written.length;
      this.counters.duplicates += out.duplicates.length;
      if (out.written.length) this.deps.onWritten(out.written);
      if (out.highestSeq !== null) await this.ack(node, out.highestSeq);
    }
    if (refused) await this.gapAck(node, held);
  }

  /** Tells the node its events after `upToSeq` are missing one before them: it resends from there (publisher.ts). */
  private async gapAck(node: string, upToSeq: number): Promise<void> {
    try {
      await publish(this.deps, 'acks', [node], { node, upToSeq, gap: true });
    } catch (err) {
      this.deps.log.warn({ err, node }, 'could not send gap ack; the agent resends after its ack timeout');
    }
  }

  /**
   * Acks `upToSeq` (a durable high-water mark) to the node. A group commit
   * completes many appends at once; they share one ack per node, sent on the
   * next turn of the event loop with the highest seq. Resolves once it is
   * sent (or failed: the agent then resends, and dedup absorbs it).
   */
  private ack(node: string, upToSeq: number): Promise<void> {
    const pending = this.acks.get(node);
    if (pending) {
      if (upToSeq > pending.upToSeq) pending.upToSeq = upToSeq;
      return pending.sent;
    }
    const entry = { upToSeq, sent: DONE };
    entry.sent = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => {
        this.acks.delete(node);
        return publish(this.deps, 'acks', [node], { node, upToSeq: entry.upToSeq });
      })
      .catch((err: unknown) => {
        this.deps.log.warn({ err, node }, 'could not send event ack; the agent will resend and dedup absorbs it');
      });
    this.acks.set(node, entry);
    return entry.sent;
  }

  private async onStatus(node: string, topic: string, status: NodeStatus, raw: Buffer): Promise<void> {
    if (status.node !== node) return this.rejectMsg('node_mismatch', topic, raw);
    this.counters.statuses += 1;
    const known = this.deps.nodeStatus(node);
    const online = status.state === 'online';
    if (online) this.deps.onBirth?.(node);
    // A retained redelivery of what we already know is skipped; a birth announcing a backlog never is.
    if (known && known.online === online && known.session === status.session && (known.connection ?? 0) === (status.connection ?? 0) && !status.backlog) return;
    // The hub's own stream is written by one chain so its seq stays monotonic.
    // A failed write must not block every later one: each link starts from the previous one's end, whatever its outcome.
    const write = this.hubChain.catch(() => undefined).then(() => this.writeHubEvent(node, online, status));
    this.hubChain = write;
    await write;
  }

  private async writeHubEvent(node: string, online: boolean, status: NodeStatus): Promise<void> {
    const seq = (this.deps.eventLog.highestSeq(HUB_STREAM) ?? 0) + 1;
    const now = this.deps.clock.now();
    const base = { id: `hub-${seq}`, node, seq, ts: now.toISOString() };
    const connection = status.connection !== undefined ? { connection: status.connection } : {};
    const event: HomelabEvent = online
      ? {
          ...base,
          type: 'node_online',
          data: {
            session: status.session,
            ...connection,
            ...(status.version ? { version: status.version } : {}),
            ...(status.backlog ? { backlogUntilSeq: status.backlog.untilSeq, backlogEvents: status.backlog.events } : {}),
            ...(status.services ? { services: status.services } : {}),
          },
        }
      : { ...base, type: 'node_offline', data: { session: status.session, ...connection, reason: 'status_offline' } };
    const out = await this.deps.eventLog.append(HUB_STREAM, [event], now);
    if (out.written.length) this.deps.onWritten(out.written);
  }

  private async onResult(node: string, topic: string, result: CommandResult, raw: Buffer): Promise<void> {
    if (result.node !== node) return this.rejectMsg('node_mismatch', topic, raw);
    this.counters.results += 1;
    await this.deps.onResult(result);
  }

  private rejectMsg(reason: RejectReason, topic: string, payload: Buffer, detail?: string): undefined {
    this.counters.reject(reason);
    this.deps.log.warn({ reason, topic, detail, payload: preview(payload) }, 'inbound message rejected');
  }
}
