import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '@homelab/contracts';
import { makeTempDir, type TempDir } from '@homelab/testkit';
import { Outbox } from './outbox';
import { SeqAllocator } from './seq';
import { EventStamper } from './stamper';
import { silentLog } from '../testing/fakes';

describe('EventStamper', () => {
  let tmp: TempDir;
  let outbox: Outbox;
  let durable: number;
  let stamper: EventStamper;

  beforeEach(async () => {
    tmp = await makeTempDir('hl-stamp');
    const seq = new SeqAllocator(tmp.path);
    await seq.open();
    outbox = new Outbox({ dir: path.join(tmp.path, 'outbox'), maxBytes: 1 << 20, log: silentLog });
    await outbox.open();
    durable = 0;
    const clock = new ManualClock('2026-03-01T10:00:00.000Z');
    stamper = new EventStamper({ node: 'n1', seq, outbox, clock, log: silentLog, onDurable: () => (durable += 1) });
    stamper.start();
  });
  afterEach(async () => {
    await stamper.stop();
    await outbox.close();
    await tmp.cleanup();
  });

  it('stores stamped events in seq order without any link, and says so once per stored event', async () => {
    const events = await Promise.all([1, 2, 3].map((services) => stamper.emit({ type: 'node_heartbeat', data: { services } })));
    expect(events.map((e) => e && [e.id, e.seq, e.ts])).toEqual([
      ['n1-1', 1, '2026-03-01T10:00:00.000Z'],
      ['n1-2', 2, '2026-03-01T10:00:00.000Z'],
      ['n1-3', 3, '2026-03-01T10:00:00.000Z'],
    ]);
    expect(outbox.unacked.toArray().map((e) => JSON.parse(e.line))).toEqual(events);
    expect(durable).toBe(3);
  });

  it('resolves null for a draft that breaks its own schema and stores nothing for it; the next draft is stored', async () => {
    const bad = await stamper.emit({ type: 'service_unhealthy', service: 'Bad Name', data: { reason: 'containers_not_running' } });
    const good = await stamper.emit({ type: 'node_heartbeat', data: { services: 1 } });
    expect(bad).toBeNull();
    expect(stamper.invalid).toBe(1);
    expect(outbox.unacked.toArray().map((e) => e.seq)).toEqual([good!.seq]);
    expect(durable).toBe(1);
  });
});
