import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, topics } from '@homelab/contracts';
import { makeTempDir, waitFor, type TempDir } from '@homelab/testkit';
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

  const make = async (opts: { maxBytes?: number; segmentBytes?: number; window?: number; maxUnacked?: number; online?: boolean } = {}) => {
    const seq = new SeqAllocator(tmp.path);
    await seq.open();
    outbox = new Outbox({ dir: path.join(tmp.path, 'outbox'), maxBytes: opts.maxBytes ?? 1 << 20, segmentBytes: opts.segmentBytes, log: silentLog });
    await outbox.open();
    seq.ensureAbove(outbox.maxSeq());
    const p = new EventPublisher({
      node: 'n1', seq, outbox, link, clock, log: silentLog, counters, ackTimeoutMs: 10_000, maxPayloadBytes: 4096,
      window: opts.window, maxUnacked: opts.maxUnacked,
    });
    publishers.push(p);
    p.start();
    if (opts.online ?? true) p.onConnected();
    return p;
  };
  const publishers: EventPublisher[] = [];
  const pending = () => outbox.unacked.toArray().map((e) => e.seq);
  const ack = (p: EventPublisher, upToSeq: number, node = 'n1') => p.onAck(topics.acks(node), Buffer.from(JSON.stringify({ node, upToSeq })));
  const sentSeqs = () => link.json('/events').map((e) => e.seq);

  beforeEach(async () => {
    tmp = await makeTempDir('hl-pub');
    clock = new ManualClock('2026-03-01T10:00:00.000Z');
    link = new FakeLink();
    counters = new InboundCounters();
  });
  afterEach(async () => {
    for (const p of publishers.splice(0)) await p.stop();
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
    expect(pending()).toEqual([1]);
  });

  it('keeps events while disconnected and sends all unacknowledged ones in seq order on connect', async () => {
    const p = await make();
    link.isConnected = false;
    p.onDisconnected();
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
    expect(pending()).toEqual([3]);
    link.sent.length = 0;
    p.onConnected(); // reconnect: only the unacked one again
    await flush();
    expect(sentSeqs()).toEqual([3]);
  });

  it('resends everything unacknowledged in a new process after a crash', async () => {
    const p = await make();
    for (let i = 0; i < 2; i++) await p.emit({ type: 'node_heartbeat' });
    await p.stop();
    await outbox.close();
    link = new FakeLink();
    const q = await make();
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
    expect(pending()).toHaveLength(1);
    expect(counters.rejected).toMatchObject({ wrong_node: 1, not_json: 1, invalid_schema: 1 });
  });

  it('refuses to send an event that breaks its own schema (seq becomes a gap)', async () => {
    const p = await make();
    const bad = await p.emit({ type: 'service_unhealthy', service: 'Bad Name', data: { reason: 'containers_not_running' } });
    expect(bad).toBeNull();
    expect(p.invalid).toBe(1);
    expect(pending()).toHaveLength(0);
  });
  it('waits for onConnected (the birth) before sending, even on a connected link', async () => {
    const p = await make({ online: false });
    await p.emit({ type: 'node_heartbeat' });
    await flush();
    expect(link.sent).toHaveLength(0);
    p.onConnected();
    await flush();
    expect(sentSeqs()).toEqual([1]);
  });

  it('publishes an event only once it is on disk, and a burst of 300 shares a few fdatasyncs', async () => {
    const dir = path.join(tmp.path, 'outbox');
    const onDisk = () => readdirSync(dir).filter((n) => n.startsWith('seg-')).map((n) => readFileSync(path.join(dir, n), 'utf8')).join('');
    const early: number[] = [];
    link.onPublish = (m) => {
      if (!onDisk().includes(`${m.payload}\n`)) early.push(JSON.parse(m.payload).seq);
    };
    const p = await make();
    const events = await Promise.all(Array.from({ length: 300 }, (_, i) => p.emit({ type: 'node_heartbeat', data: { services: i } })));
    await flush();
    expect(events.map((e) => e!.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(sentSeqs()).toEqual(events.map((e) => e!.seq));
    expect(early).toEqual([]);
    expect(outbox.stats().syncs).toBeLessThanOrEqual(3);
  });

  it('keeps at most `window` publishes awaiting PUBACK and at most `maxUnacked` events awaiting the hub', async () => {
    link.hold = true;
    const p = await make({ window: 8, maxUnacked: 20 });
    await Promise.all(Array.from({ length: 50 }, () => p.emit({ type: 'node_heartbeat' })));
    await flush();
    expect(link.sent).toHaveLength(8);
    link.release();
    await flush();
    expect(sentSeqs()).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await ack(p, 10);
    await flush();
    expect(sentSeqs().at(-1)).toBe(30);
  });

  it('reports what the cap dropped as coalesced events_dropped events that add up to every lost event', async () => {
    // ~4 events per segment, ~12 in the outbox: heavy dropping while offline.
    const p = await make({ maxBytes: 1900, segmentBytes: 600, online: false });
    for (let i = 0; i < 60; i++) await p.emit({ type: 'node_heartbeat', data: { services: i } });
    await Promise.all(Array.from({ length: 60 }, (_, i) => p.emit({ type: 'node_heartbeat', data: { services: i } })));
    // The reports of the last drops are emitted after the burst resolved: wait until the outbox is still.
    let last = '';
    await waitFor(async () => {
      await flush();
      const now = JSON.stringify([outbox.maxSeq(), outbox.stats()]);
      return now === last || ((last = now), false);
    }, { intervalMs: 50 });
    const kept = outbox.unacked.toArray().map((e) => JSON.parse(e.line));
    const reports = kept.filter((e) => e.type === 'events_dropped');
    const lost = outbox.maxSeq() - kept.length; // seqs are gapless here: every one either kept or lost
    expect(outbox.stats().fileBytes).toBeLessThanOrEqual(1900);
    expect(lost).toBeGreaterThan(90);
    expect(reports.length).toBeGreaterThan(0);
    expect(reports.length).toBeLessThanOrEqual(3);
    expect(reports.reduce((n, r) => n + r.data.count, 0)).toBe(lost);
    expect(reports.every((r) => r.data.reason === 'outbox_full' && r.data.fromSeq >= 1 && r.data.toSeq < r.seq)).toBe(true);
    expect(kept.at(-1)!.seq).toBe(outbox.maxSeq());
    p.onConnected();
    await flush();
    expect(sentSeqs()).toEqual(kept.map((e) => e.seq));
  });
});
