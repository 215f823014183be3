import { z } from 'zod';
import {
  CommandResult,
  HUB_STREAM,
  HomelabEvent,
  NodeStatus,
  parseNodeTopic,
  topics,
  type Clock,
} from '@homelab/contracts';
import type { EventLog } from '@homelab/event-log';
import { preview, type Logger } from '@homelab/logging';
import { IngestCounters, type RejectReason } from './counters';

export interface IngestDeps {
  eventLog: EventLog;
  publish: (topic: string, payload: unknown, opts?: { qos?: 0 | 1; retain?: boolean }) => Promise<void>;
  /** Called after events were durably written (wakes the observer). */
  onWritten: () => void;
  onResult: (result: CommandResult) => Promise<unknown>;
  /** Current folded status of a node, to avoid logging the same birth twice. */
  nodeStatus: (node: string) => { online: boolean | null; session: number | null } | undefined;
  clock: Clock;
  log: Logger;
  maxPayloadBytes: number;
}

/**
 * Everything agents publish enters here. Each message is size-checked,
 * parsed, validated with zod and checked against the node in its topic; a bad
 * one is logged with its reason and counted, never thrown (zigbee2mqtt/aedes
 * practice). Events are acked to the agent only after the durable write
 * (RELIABILITY.md: the broker's PUBACK is no durability signal).
 */
export class Ingest {
  readonly counters = new IngestCounters();
  private hubChain: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: IngestDeps) {}

  /** Never rejects. */
  async handle(topic: string, payload: Buffer): Promise<void> {
    try {
      await this.dispatch(topic, payload);
    } catch (err) {
      this.deps.log.error({ err, topic }, 'ingest failed');
      this.counters.reject('write_failed');
    }
  }

  private async dispatch(topic: string, payload: Buffer): Promise<void> {
    const parsed = parseNodeTopic(topic);
    if (!parsed) return this.rejectMsg('unknown_topic', topic, payload);
    if (parsed.channel === 'status' && payload.length === 0) return; // a cleared retained status
    if (payload.length > this.deps.maxPayloadBytes) return this.rejectMsg('too_large', topic, payload);
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      return this.rejectMsg('not_json', topic, payload);
    }
    switch (parsed.channel) {
      case 'events':
        return this.onEvent(parsed.node, topic, json, payload);
      case 'status':
        return this.onStatus(parsed.node, topic, json, payload);
      case 'results':
        return this.onResult(parsed.node, topic, json, payload);
      default:
        return; // our own publications (commands, desired, acks) echo back only if subscribed; ignore
    }
  }

  private async onEvent(node: string, topic: string, json: unknown, raw: Buffer): Promise<void> {
    // Agents may batch: accept one event or an array of them.
    const res = z.union([HomelabEvent, z.array(HomelabEvent).min(1).max(1000)]).safeParse(json);
    if (!res.success) return this.rejectMsg('invalid_schema', topic, raw, z.prettifyError(res.error));
    const events = Array.isArray(res.data) ? res.data : [res.data];
    if (events.some((e) => e.node !== node)) return this.rejectMsg('node_mismatch', topic, raw);
    const out = await this.deps.eventLog.append(node, events, this.deps.clock.now());
    this.counters.accepted += out.written.length;
    this.counters.duplicates += out.duplicates.length;
    if (out.written.length) this.deps.onWritten();
    if (out.highestSeq !== null) {
      await this.deps.publish(topics.acks(node), { node, upToSeq: out.highestSeq }, { qos: 1 }).catch((err: unknown) => {
        this.deps.log.warn({ err, node }, 'could not send event ack; the agent will resend and dedup absorbs it');
      });
    }
  }

  private async onStatus(node: string, topic: string, json: unknown, raw: Buffer): Promise<void> {
    const res = NodeStatus.safeParse(json);
    if (!res.success) return this.rejectMsg('invalid_schema', topic, raw, z.prettifyError(res.error));
    const status = res.data;
    if (status.node !== node) return this.rejectMsg('node_mismatch', topic, raw);
    this.counters.statuses += 1;
    const known = this.deps.nodeStatus(node);
    const online = status.state === 'online';
    // A retained redelivery of what we already know is skipped; a birth announcing a backlog never is.
    if (known && known.online === online && known.session === status.session && !status.backlog) return;
    // The hub's own stream is written by one chain so its seq stays monotonic.
    this.hubChain = this.hubChain.then(() => this.writeHubEvent(node, online, status));
    await this.hubChain;
  }

  private async writeHubEvent(node: string, online: boolean, status: NodeStatus): Promise<void> {
    const seq = (this.deps.eventLog.highestSeq(HUB_STREAM) ?? 0) + 1;
    const now = this.deps.clock.now();
    const base = { id: `hub-${seq}`, node, seq, ts: now.toISOString() };
    const event: HomelabEvent = online
      ? {
          ...base,
          type: 'node_online',
          data: {
            session: status.session,
            ...(status.version ? { version: status.version } : {}),
            ...(status.backlog ? { backlogUntilSeq: status.backlog.untilSeq, backlogEvents: status.backlog.events } : {}),
            ...(status.services ? { services: status.services } : {}),
          },
        }
      : { ...base, type: 'node_offline', data: { session: status.session, reason: 'status_offline' } };
    const out = await this.deps.eventLog.append(HUB_STREAM, [event], now);
    if (out.written.length) this.deps.onWritten();
  }

  private async onResult(node: string, topic: string, json: unknown, raw: Buffer): Promise<void> {
    const res = CommandResult.safeParse(json);
    if (!res.success) return this.rejectMsg('invalid_schema', topic, raw, z.prettifyError(res.error));
    if (res.data.node !== node) return this.rejectMsg('node_mismatch', topic, raw);
    this.counters.results += 1;
    await this.deps.onResult(res.data);
  }

  private rejectMsg(reason: RejectReason, topic: string, payload: Buffer, detail?: string): void {
    this.counters.reject(reason);
    this.deps.log.warn({ reason, topic, detail, payload: preview(payload) }, 'inbound message rejected');
  }
}
