import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoredEvent, topics, type Clock, type HomelabEvent } from '@homelab/contracts';
import { encodeLine, eventOf, FsEventLog, type AppendOutcome, type EventLog } from '@homelab/event-log';
import type { Logger } from '@homelab/logging';
import { admitChained, Ingest, type IngestDeps } from './ingest';

const NOW = new Date('2026-03-01T10:00:00.000Z');
const clock: Clock = { now: () => NOW, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
const silent = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined, child: () => silent } as unknown as Logger;

const healthy = (node: string, seq: number): HomelabEvent => ({
  id: `${node}-${seq}`,
  node,
  seq,
  ts: '2026-03-01T09:59:00.000Z',
  type: 'service_healthy',
  service: 'grafana',
  data: { containers: [{ name: 'grafana-1', state: 'running', health: 'healthy' }], heartbeat: true },
});
const msg = (e: HomelabEvent | HomelabEvent[]) => Buffer.from(JSON.stringify(e));

let root: string;
let log: FsEventLog;
let acks: { topic: string; payload: unknown }[];

function ingestWith(over: Partial<IngestDeps> = {}): Ingest {
  return new Ingest({
    eventLog: log,
    publish: async (topic, payload) => void acks.push({ topic, payload: typeof payload === 'string' ? JSON.parse(payload) : payload }),
    onWritten: () => undefined,
    onResult: async () => undefined,
    nodeStatus: () => undefined,
    clock,
    log: silent,
    maxPayloadBytes: 4096,
    ...over,
  });
}

async function stored(stream: string): Promise<string[]> {
  const text = await fs.readFile(path.join(root, 'events', '2026-03-01', `${stream}.jsonl`), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean);
}

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'ingest-'));
  log = new FsEventLog({ root, clock });
  await log.open();
  acks = [];
});
afterEach(async () => {
  await log.close();
  await fs.rm(root, { recursive: true, force: true });
});

describe('Ingest', () => {
  it('writes a burst of two nodes in one append per node and acks each node once, after the write', async () => {
    const ingest = ingestWith();
    const done: Promise<void>[] = [];
    for (let seq = 1; seq <= 150; seq++) {
      done.push(ingest.handle(topics.events('piha'), msg(healthy('piha', seq))));
      done.push(ingest.handle(topics.events('chelsty-ha'), msg(healthy('chelsty-ha', seq))));
    }
    await Promise.all(done);
    expect(await stored('piha')).toHaveLength(150);
    expect(await stored('chelsty-ha')).toHaveLength(150);
    expect(ingest.counters.accepted).toBe(300);
    expect(acks.sort((a, b) => a.topic.localeCompare(b.topic))).toEqual([
      { topic: topics.acks('chelsty-ha'), payload: { node: 'chelsty-ha', upToSeq: 150 } },
      { topic: topics.acks('piha'), payload: { node: 'piha', upToSeq: 150 } },
    ]);
  });

  it('acks a resend made only of duplicates again, so an agent that lost the ack learns it', async () => {
    const ingest = ingestWith();
    await ingest.handle(topics.events('piha'), msg([healthy('piha', 1), healthy('piha', 2)]));
    await ingest.handle(topics.events('piha'), msg([healthy('piha', 1), healthy('piha', 2)]));
    expect(await stored('piha')).toHaveLength(2);
    expect(ingest.counters.snapshot()).toMatchObject({ accepted: 2, duplicates: 2 });
    expect(acks.map((a) => a.payload)).toEqual([
      { node: 'piha', upToSeq: 2 },
      { node: 'piha', upToSeq: 2 },
    ]);
  });

  it('stores what zod returns for an event with other key order or unknown keys', async () => {
    const ingest = ingestWith();
    const e = healthy('piha', 1);
    const odd = { extra: 'dropped', data: e.data, service: 'grafana', type: e.type, ts: e.ts, seq: 1, node: 'piha', id: e.id };
    await ingest.handle(topics.events('piha'), Buffer.from(JSON.stringify(odd, null, 2)));
    expect(await stored('piha')).toEqual([encodeLine(StoredEvent.parse({ event: e, rx: NOW.toISOString() })).trimEnd()]);
  });

  it('stores an event published as JSON.stringify wrote it byte for byte as encodeLine writes the record, with or without prevSeq', async () => {
    const ingest = ingestWith();
    const events = [healthy('piha', 1), { ...healthy('piha', 2), prevSeq: 1 }, { ...healthy('piha', 3), prevSeq: 2, data: { heartbeat: true } }];
    // Key order as zod (and so agents) write it: prevSeq after ts.
    const wire = events.map((e) => StoredEvent.parse({ event: e, rx: NOW.toISOString() }));
    for (const w of wire) await ingest.handle(topics.events('piha'), msg(w.event));
    expect(await stored('piha')).toEqual(wire.map((w) => encodeLine(w).trimEnd()));
    expect(ingest.counters.accepted).toBe(3);
  });

  it('rejects bad messages with a counted reason, writes nothing and never throws', async () => {
    const ingest = ingestWith();
    await ingest.handle('homelab/v1/nodes/Bad Name/events', msg(healthy('piha', 1)));
    await ingest.handle(topics.events('piha'), Buffer.from('{not json'));
    await ingest.handle(topics.events('piha'), Buffer.from(JSON.stringify({ ...healthy('piha', 1), seq: -1 })));
    await ingest.handle(topics.events('piha'), msg(healthy('chelsty-ha', 1)));
    await ingest.handle(topics.events('piha'), Buffer.alloc(5000, 0x20));
    await ingest.handle(topics.events('piha'), msg([]));
    expect(ingest.counters.snapshot().rejected).toMatchObject({ unknown_topic: 1, not_json: 1, invalid_schema: 2, node_mismatch: 1, too_large: 1 });
    expect(await stored('piha')).toEqual([]);
    expect(acks).toEqual([]);
  });

  it('refuses disk events whose mount is no absolute path (e.g. `__proto__`) with a counted reason instead of dropping them silently', async () => {
    const ingest = ingestWith();
    const disk = (seq: number, mount: string): HomelabEvent => ({
      id: `piha-${seq}`,
      node: 'piha',
      seq,
      ts: '2026-03-01T09:59:00.000Z',
      type: 'disk_pressure',
      data: { mount, level: 'high', usedPercent: 97 },
    });
    await ingest.handle(topics.events('piha'), msg(disk(1, '/')));
    for (const mount of ['__proto__', 'constructor', 'data'])
      await ingest.handle(topics.events('piha'), msg({ ...disk(2, mount), prevSeq: 1 } as HomelabEvent));
    expect(ingest.counters.snapshot().rejected).toMatchObject({ invalid_schema: 3 });
    expect((await stored('piha')).map((l) => JSON.parse(l).event.data.mount)).toEqual(['/']);
  });

  it('counts every message of a batch that could not be written, and sends no ack', async () => {
    const failing: EventLog = {
      open: async () => undefined,
      close: async () => undefined,
      highestSeq: () => null,
      append: () => Promise.reject(new Error('disk full')),
    };
    const ingest = ingestWith({ eventLog: failing });
    await Promise.all([1, 2, 3].map((seq) => ingest.handle(topics.events('piha'), msg(healthy('piha', seq)))));
    expect(ingest.counters.snapshot().rejected.write_failed).toBe(3);
    expect(acks).toEqual([]);
  });

  it('keeps writing status events after one hub-stream write failed', async () => {
    let calls = 0;
    const appended: HomelabEvent[] = [];
    const flaky: EventLog = {
      open: async () => undefined,
      close: async () => undefined,
      highestSeq: () => appended.length || null,
      append: async (_stream, events): Promise<AppendOutcome> => {
        if (calls++ === 0) throw new Error('EIO');
        appended.push(...events.map(eventOf));
        return { written: events.map((item) => ({ event: eventOf(item), rx: NOW.toISOString() })), duplicates: [], highestSeq: appended.length };
      },
    };
    const ingest = ingestWith({ eventLog: flaky });
    const status = (session: number) => Buffer.from(JSON.stringify({ node: 'piha', state: 'online', session }));
    await ingest.handle(topics.status('piha'), status(1));
    await ingest.handle(topics.status('piha'), status(2));
    expect(ingest.counters.snapshot().rejected.write_failed).toBe(1);
    expect(appended).toMatchObject([{ node: 'piha', type: 'node_online', data: { session: 2 } }]);
  });

  it('logs the birth of a later connection of a known session, with its connection, and skips a redelivered one', async () => {
    const ingest = ingestWith({ nodeStatus: () => ({ online: false, session: 4, connection: 1 }) });
    const status = (state: 'online' | 'offline', connection: number) => Buffer.from(JSON.stringify({ node: 'piha', state, session: 4, connection }));
    await ingest.handle(topics.status('piha'), status('offline', 1));
    await ingest.handle(topics.status('piha'), status('online', 2));
    expect((await stored('_hub')).map((l) => JSON.parse(l).event)).toMatchObject([{ type: 'node_online', data: { session: 4, connection: 2 } }]);
  });

  it('reports every birth to onBirth, also a retained one it already logged, and no offline status', async () => {
    const births: string[] = [];
    const ingest = ingestWith({ nodeStatus: () => ({ online: true, session: 4, connection: 2 }), onBirth: (node) => births.push(node) });
    const status = (state: 'online' | 'offline') => Buffer.from(JSON.stringify({ node: 'piha', state, session: 4, connection: 2 }));
    await ingest.handle(topics.status('piha'), status('online'));
    await ingest.handle(topics.status('piha'), status('offline'));
    await ingest.handle(topics.status('piha'), Buffer.from('{"node":"piha","state":"online"}'));
    expect(births).toEqual(['piha']);
    expect((await stored('_hub')).map((l) => JSON.parse(l).event.type)).toEqual(['node_offline']);
  });

  it('refuses events whose predecessor never arrived, writes the chain before the hole and sends a gap ack', async () => {
    const ingest = ingestWith();
    const chained = (seq: number, prevSeq: number) => ({ ...healthy('piha', seq), prevSeq });
    await ingest.handle(topics.events('piha'), msg([chained(1, 0), chained(2, 1)]));
    // seq 3 was dropped by the broker: 4 and 5 point past what the hub holds.
    await ingest.handle(topics.events('piha'), msg([chained(4, 3), chained(5, 4)]));
    expect((await stored('piha')).map((l) => JSON.parse(l).event.seq)).toEqual([1, 2]);
    expect(ingest.counters.snapshot().rejected.gap).toBe(2);
    expect(acks.map((a) => a.payload)).toEqual([
      { node: 'piha', upToSeq: 2 },
      { node: 'piha', upToSeq: 2, gap: true },
    ]);
    // The agent resends from 3: now the chain holds.
    await ingest.handle(topics.events('piha'), msg([chained(3, 2), chained(4, 3), chained(5, 4)]));
    expect((await stored('piha')).map((l) => JSON.parse(l).event.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(acks.at(-1)?.payload).toEqual({ node: 'piha', upToSeq: 5 });
  });

  it('rejects a payload that is not valid UTF-8 as not_json instead of storing replacement characters', async () => {
    const ingest = ingestWith();
    const bad = Buffer.from(JSON.stringify(healthy('piha', 1)).replace('grafana-1', 'grafana-X'));
    bad[bad.indexOf('grafana-X') + 8] = 0xc3; // a lead byte without its continuation
    await ingest.handle(topics.events('piha'), bad);
    expect(ingest.counters.snapshot().rejected.not_json).toBe(1);
    expect(await stored('piha')).toEqual([]);
  });
});

describe('admitChained', () => {
  const ev = (seq: number, prevSeq?: number): HomelabEvent => ({ ...healthy('piha', seq), ...(prevSeq === undefined ? {} : { prevSeq }) });
  it.each([
    { name: 'an unbroken chain is admitted whole', events: [ev(5, 4), ev(6, 5)], held: 4, admitted: [5, 6], refused: 0 },
    { name: 'events without prevSeq are admitted (older agents)', events: [ev(9), ev(12)], held: 4, admitted: [9, 12], refused: 0 },
    { name: 'a hole refuses everything after it', events: [ev(5, 4), ev(7, 6), ev(8, 7)], held: 4, admitted: [5], refused: 2 },
    { name: 'out-of-order arrival is chained in seq order', events: [ev(6, 5), ev(5, 4)], held: 4, admitted: [5, 6], refused: 0 },
    { name: 'duplicates below the high-water mark pass to the log, which dedups them', events: [ev(3, 2)], held: 4, admitted: [3], refused: 0 },
    { name: 'a prevSeq skipping dropped events is fine when the hub holds it', events: [ev(40, 4)], held: 4, admitted: [40], refused: 0 },
  ])('$name', ({ events, held, admitted, refused }) => {
    const out = admitChained(events, held);
    expect(out.admitted.map((e) => e.seq)).toEqual(admitted);
    expect(out.refused).toBe(refused);
  });
});
