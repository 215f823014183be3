import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, topics } from '@homelab/contracts';
import { makeTempDir, type TempDir } from '@homelab/testkit';
import { InboundCounters } from './inbound';
import { Outbox } from './outbox';
import { EventPublisher } from './publisher';
import { SeqAllocator } from './seq';
import { FakeLink, flush, silentLog } from './testing/fakes';

describe('EventPublisher', () => {
  let tmp: TempDir;
  let clock: ManualClock;
  let link: FakeLink;
  let outbox: Outbox;
  let counters: InboundCounters;

  const make = async () => {
    const seq = new SeqAllocator(tmp.path);
    await seq.open();
    outbox = new Outbox({ file: path.join(tmp.path, 'outbox.jsonl'), maxBytes: 1 << 20, log: silentLog });
    await outbox.open();
    seq.ensureAbove(outbox.maxSeq());
    return new EventPublisher({ node: 'n1', seq, outbox, link, clock, log: silentLog, counters, ackTimeoutMs: 10_000, maxPayloadBytes: 4096 });
  };
  const ack = (p: EventPublisher, upToSeq: number, node = 'n1') => p.onAck(topics.acks(node), Buffer.from(JSON.stringify({ node, upToSeq })));
  const sentSeqs = () => link.json('/events').map((e) => e.seq);

  beforeEach(async () => {
    tmp = await makeTempDir('hl-pub');
    clock = new ManualClock('2026-03-01T10:00:00.000Z');
    link = new FakeLink();
    counters = new InboundCounters();
  });
  afterEach(async () => {
    await outbox?.close();
    await tmp.cleanup();
  });

  it('stamps id, node, seq and ts and publishes QoS 1 on the events topic after storing it', async () => {
    const p = await make();
    const ev = await p.emit({ type: 'node_heartbeat', data: { services: 2 } });
    expect(ev).toMatchObject({ id: 'n1-1', node: 'n1', seq: 1, ts: '2026-03-01T10:00:00.000Z', type: 'node_heartbeat' });
    await flush();
    expect(link.sent).toHaveLength(1);
    expect(link.sent[0]).toMatchObject({ topic: topics.events('n1'), opts: { qos: 1 } });
    expect(JSON.parse(link.sent[0]!.payload)).toEqual(ev);
    expect(outbox.pending().map((e) => e.seq)).toEqual([1]);
  });

  it('keeps events while disconnected and sends all unacknowledged ones in seq order on connect', async () => {
    const p = await make();
    link.isConnected = false;
    for (let i = 0; i < 3; i++) await p.emit({ type: 'node_heartbeat' });
    await flush();
    expect(link.sent).toHaveLength(0);
    link.isConnected = true;
    p.onConnected();
    await flush();
    expect(sentSeqs()).toEqual([1, 2, 3]);
  });

  it('drops events from the outbox only when the hub acks them', async () => {
    const p = await make();
    for (let i = 0; i < 3; i++) await p.emit({ type: 'node_heartbeat' });
    await ack(p, 2);
    expect(outbox.pending().map((e) => e.seq)).toEqual([3]);
    link.sent.length = 0;
    p.onConnected(); // reconnect: only the unacked one again
    await flush();
    expect(sentSeqs()).toEqual([3]);
  });

  it('resends everything unacknowledged in a new process after a crash', async () => {
    const p = await make();
    for (let i = 0; i < 2; i++) await p.emit({ type: 'node_heartbeat' });
    await outbox.close();
    link = new FakeLink();
    const q = await make();
    q.onConnected();
    await flush();
    expect(sentSeqs()).toEqual([1, 2]);
    const next = await q.emit({ type: 'node_heartbeat' });
    expect(next!.seq).toBeGreaterThan(2);
  });

  it('sends again when the hub has not acked within ackTimeoutMs', async () => {
    const p = await make();
    await p.emit({ type: 'node_heartbeat' });
    await flush();
    clock.advance(5_000);
    p.runOnce();
    await flush();
    expect(sentSeqs()).toEqual([1]);
    clock.advance(5_000);
    p.runOnce();
    await flush();
    expect(sentSeqs()).toEqual([1, 1]);
    expect(p.resends).toBe(1);
  });

  it('counts and ignores acks for another node or with a bad payload, without throwing', async () => {
    const p = await make();
    await p.emit({ type: 'node_heartbeat' });
    await ack(p, 1, 'other');
    await p.onAck(topics.acks('n1'), Buffer.from('{nope'));
    await p.onAck(topics.acks('n1'), Buffer.from(JSON.stringify({ node: 'n1', upToSeq: -1 })));
    expect(outbox.pending()).toHaveLength(1);
    expect(counters.rejected).toMatchObject({ wrong_node: 1, not_json: 1, invalid_schema: 1 });
  });

  it('refuses to send an event that breaks its own schema (seq becomes a gap)', async () => {
    const p = await make();
    const bad = await p.emit({ type: 'service_unhealthy', service: 'Bad Name', data: { reason: 'containers_not_running' } });
    expect(bad).toBeNull();
    expect(p.invalid).toBe(1);
    expect(outbox.pending()).toHaveLength(0);
  });
});
