import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HomelabEvent, ManualClock, topics, withPrevSeq } from '@homelab/contracts';
import { makeTempDir, waitFor, type TempDir } from '@homelab/testkit';
import { InboundCounters } from './inbound';
import { Outbox } from './outbox';
import { EventPublisher } from './publisher';
import { SeqAllocator } from './seq';
import { FakeLink, flush, silentLog } from '../testing/fakes';

describe('EventPublisher', () => {
  let tmp: TempDir;
  let clock: ManualClock;
  let link: FakeLink;
  let outbox: Outbox;
  let counters: InboundCounters;

  type MakeOpts = { maxBytes?: number; segmentBytes?: number; window?: number; maxUnacked?: number; minUnacked?: number; online?: boolean };
  const make = async (opts: MakeOpts = {}) => {
    const seq = new SeqAllocator(tmp.path);
    await seq.open();
    outbox = new Outbox({ dir: path.join(tmp.path, 'outbox'), maxBytes: opts.maxBytes ?? 1 << 20, segmentBytes: opts.segmentBytes, log: silentLog });
    await outbox.open();
    seq.ensureAbove(outbox.maxSeq());
    const p = new EventPublisher({
      node: 'n1',
      seq,
      outbox,
      link,
      clock,
      log: silentLog,
      counters,
      ackTimeoutMs: 10_000,
      maxPayloadBytes: 4096,
      window: opts.window,
      maxUnacked: opts.maxUnacked,
      minUnacked: opts.minUnacked,
      gapQuietMs: 20,
      gapHoldoffMs: 300,
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
  /** [seq, prevSeq] of each publish, in order. */
  const sentPairs = () => link.json('/events').map((e) => [e.seq, e.prevSeq]);
  const gapAck = (p: EventPublisher, upToSeq: number) => p.onAck(topics.acks('n1'), Buffer.from(JSON.stringify({ node: 'n1', upToSeq, gap: true })));
  const burst = (p: EventPublisher, n: number) => Promise.all(Array.from({ length: n }, (_, i) => p.emit({ type: 'node_heartbeat', data: { services: i } })));
  /** Pairs [seq, seq - 1] for seqs from..to: a stream where each event names the one before it. */
  const chain = (from: number, to: number, first = from - 1) => Array.from({ length: to - from + 1 }, (_, i) => [from + i, i === 0 ? first : from + i - 1]);

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
    expect(JSON.parse(link.sent[0]!.payload)).toEqual({ ...ev, prevSeq: 0 }); // see 'prevSeq' below
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
    const onDisk = () =>
      readdirSync(dir)
        .filter((n) => n.startsWith('seg-'))
        .map((n) => readFileSync(path.join(dir, n), 'utf8'))
        .join('');
    const early: number[] = [];
    link.onPublish = (m) => {
      // On disk without prevSeq, which only the transmission carries.
      if (!onDisk().includes(`${m.payload.replace(/,"prevSeq":\d+/, '')}\n`)) early.push(JSON.parse(m.payload).seq);
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
    await waitFor(
      async () => {
        await flush();
        const now = JSON.stringify([outbox.maxSeq(), outbox.stats()]);
        return now === last || ((last = now), false);
      },
      { intervalMs: 50 },
    );
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

  describe('prevSeq', () => {
    it('names the event sent just before, 0 for the very first; the outbox keeps the event without it', async () => {
      const p = await make();
      await p.emit({ type: 'node_heartbeat' });
      await burst(p, 3);
      await flush();
      expect(sentPairs()).toEqual(chain(1, 4, 0));
      expect(outbox.unacked.toArray().every((e) => !e.line.includes('prevSeq'))).toBe(true);
    });

    it('is in schema position: what is sent is exactly what HomelabEvent.parse returns, so the hub takes its fast path', async () => {
      const p = await make();
      await p.emit({ type: 'node_heartbeat', data: { services: 3 } });
      await p.emit({ type: 'service_unhealthy', service: 'z2m', data: { reason: 'containers_not_running', containers: [{ name: 'z2m', state: 'exited' }] } });
      await p.emit({ type: 'events_dropped', data: { count: 2, fromSeq: 1, toSeq: 2, reason: 'outbox_full' } });
      await flush();
      expect(link.sent).toHaveLength(3);
      for (const { payload } of link.sent) expect(JSON.stringify(HomelabEvent.parse(JSON.parse(payload)))).toBe(payload);
      // A line of another layout (or already carrying prevSeq) is rebuilt the same way.
      const odd = JSON.stringify({ type: 'node_heartbeat', prevSeq: 1, seq: 7, ts: '2026-03-01T10:00:00.000Z', node: 'n1', id: 'n1-7' });
      const fixed = withPrevSeq(odd, 5);
      expect(JSON.parse(fixed)).toMatchObject({ seq: 7, prevSeq: 5 });
      expect(JSON.stringify(HomelabEvent.parse(JSON.parse(fixed)))).toBe(fixed);
    });

    it('follows send order across the in-flight window and the unacked limit', async () => {
      link.hold = true;
      const p = await make({ window: 4, maxUnacked: 10 });
      await burst(p, 25);
      await flush();
      link.release();
      await flush();
      await ack(p, 6);
      await flush();
      expect(sentPairs()).toEqual(chain(1, 16, 0));
    });

    it('starts a (re)connection, an ack-timeout resend and a new process at the highest seq the hub acked', async () => {
      const p = await make();
      await burst(p, 5);
      await ack(p, 2);
      await flush();
      link.sent.length = 0;
      p.onDisconnected();
      p.onConnected();
      await flush();
      expect(sentPairs()).toEqual(chain(3, 5, 2));

      link.sent.length = 0;
      await ack(p, 3);
      clock.advance(10_000); // no ack for ackTimeoutMs: everything unacked again
      await flush();
      expect(p.resends).toBe(1);
      expect(sentPairs()).toEqual(chain(4, 5, 3));

      await p.stop();
      await outbox.close(); // saves the ack floor
      link = new FakeLink();
      await make();
      await flush();
      expect(sentPairs()).toEqual(chain(4, 5, 3));
    });

    it('after the cap dropped the oldest while offline: the first survivor names the last acked seq (events_dropped explains the rest)', async () => {
      const p = await make({ maxBytes: 1900, segmentBytes: 600 });
      await burst(p, 2);
      await ack(p, 2);
      p.onDisconnected();
      link.isConnected = false;
      for (let i = 0; i < 40; i++) await p.emit({ type: 'node_heartbeat', data: { services: i } });
      await flush(30);
      expect(outbox.stats().dropped).toBeGreaterThan(10);
      const kept = outbox.unacked.toArray().map((e) => e.seq);
      expect(kept[0]).toBeGreaterThan(3);
      link.isConnected = true;
      link.sent.length = 0;
      p.onConnected();
      await flush();
      expect(sentPairs()).toEqual(kept.map((seq, i) => [seq, i === 0 ? 2 : kept[i - 1]]));
      expect(link.json('/events').some((e) => e.type === 'events_dropped')).toBe(true);
    });

    it('after the cap dropped events mid-stream: the next one still names the event sent before it', async () => {
      const p = await make({ maxBytes: 1900, segmentBytes: 600, maxUnacked: 3 });
      await burst(p, 3);
      await flush();
      expect(sentPairs()).toEqual(chain(1, 3, 0));
      for (let i = 0; i < 40; i++) await p.emit({ type: 'node_heartbeat', data: { services: i } }); // drops 1..3 and more, unsent
      await flush(30);
      // The 4th publish is the oldest survivor of the first drop (4, unsent, went with 1..3).
      const [seq, prev] = sentPairs()[3]!;
      expect(seq).toBeGreaterThan(4);
      expect(prev).toBe(3);
    });
  });

  describe('gap acks', () => {
    it('a burst of gap acks causes one rewind: after the refusals stop, everything after upToSeq again, in order, from prevSeq = upToSeq', async () => {
      const p = await make();
      await burst(p, 10);
      await flush();
      link.sent.length = 0;
      // The broker dropped 4; the hub refuses 5..10, one gap ack each.
      for (let i = 0; i < 6; i++) await gapAck(p, 3);
      await flush();
      expect(link.sent).toHaveLength(0); // nothing while the refusals go on
      clock.advance(19);
      await gapAck(p, 3); // a late one restarts the quiet time
      clock.advance(19);
      await flush();
      expect(link.sent).toHaveLength(0);
      clock.advance(1);
      await flush();
      expect(sentPairs()).toEqual(chain(4, 10, 3));
      expect(p.gapAcks).toBe(7);
      expect(p.gapRewinds).toBe(1);
      expect(pending()).toEqual(Array.from({ length: 10 }, (_, i) => i + 1)); // a gap ack acks nothing

      // Echoes right after the rewind (refusals of events sent before it) do not restart it once the resend is acked.
      await gapAck(p, 3);
      await gapAck(p, 3);
      await ack(p, 10);
      clock.advance(1000);
      await flush();
      expect(p.gapRewinds).toBe(1);
      expect(sentSeqs()).toEqual([4, 5, 6, 7, 8, 9, 10]);
      expect(pending()).toEqual([]);
    });

    it('rewinds once more, at the end of the hold-off, when the resend itself was dropped', async () => {
      const p = await make();
      await burst(p, 6);
      await flush();
      await gapAck(p, 2);
      clock.advance(20);
      await flush();
      expect(p.gapRewinds).toBe(1);
      link.sent.length = 0;
      clock.advance(50);
      await gapAck(p, 2); // 3 lost again: still refused at 2
      clock.advance(200);
      await gapAck(p, 2);
      clock.advance(49);
      await flush();
      expect(link.sent).toHaveLength(0); // held back until 300 ms after the rewind (at 20 ms)
      clock.advance(1);
      await flush();
      expect(p.gapRewinds).toBe(2);
      expect(sentPairs()).toEqual(chain(3, 6, 2));
    });

    it('a gap further on after a rewind is a new gap: rewinds from there after the quiet time', async () => {
      const p = await make();
      await burst(p, 20);
      await flush();
      await gapAck(p, 5);
      clock.advance(20);
      await flush();
      link.sent.length = 0;
      await gapAck(p, 12); // the hub got 6..12 of the resend, then 13 was dropped
      clock.advance(20);
      await flush();
      expect(p.gapRewinds).toBe(2);
      expect(sentPairs()).toEqual(chain(13, 20, 12));
    });

    it('ignores gap acks while offline and for seqs at or beyond what this stream sent', async () => {
      const p = await make();
      await burst(p, 3);
      await flush();
      await gapAck(p, 3);
      await gapAck(p, 7);
      p.onDisconnected();
      await gapAck(p, 1);
      clock.advance(1000);
      await flush();
      expect(p.gapAcks).toBe(3);
      expect(p.gapRewinds).toBe(0);
      expect(sentSeqs()).toEqual([1, 2, 3]);
    });

    it('halves the unacked allowance at each rewind (not below minUnacked) and lets acks grow it back', async () => {
      const p = await make({ maxUnacked: 64, minUnacked: 20 });
      await burst(p, 200);
      await flush();
      expect(sentSeqs().at(-1)).toBe(64);
      link.sent.length = 0;
      await gapAck(p, 10);
      clock.advance(20);
      await flush();
      expect(sentSeqs()).toEqual(Array.from({ length: 22 }, (_, i) => 11 + i)); // allowance 32 from the oldest unacked (1)
      await ack(p, 32); // 32 acked: +4
      await flush();
      expect(sentSeqs().at(-1)).toBe(32 + 36);
      link.sent.length = 0;
      await gapAck(p, 40);
      clock.advance(20);
      await flush();
      // 36 → 18, floored at 20: 20 from the oldest unacked (33)
      expect(sentSeqs().at(-1)).toBe(52);
      expect(p.gapRewinds).toBe(2);
    });

    it('never allows more than maxUnacked, even below minUnacked', async () => {
      const p = await make({ maxUnacked: 4 });
      await burst(p, 10);
      await flush();
      await gapAck(p, 1);
      clock.advance(20);
      await flush();
      expect(sentSeqs()).toEqual([1, 2, 3, 4, 2, 3, 4]);
    });
  });
});
