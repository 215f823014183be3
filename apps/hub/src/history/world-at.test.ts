import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HUB_STREAM, type Clock, type HomelabEvent } from '@homelab/contracts';
import { FsEventLog, FsEventLogReader } from '@homelab/event-log';
import { createLogger } from '@homelab/logging';
import { prng } from '@homelab/testkit';
import { aliasesHash } from '../observer/checkpoint';
import { DEFAULT_NODE_TTL_MS, DEFAULT_SERVICE_TTL_MS } from '../observer/prune';
import { replay } from '../observer/replay';
import { ev } from '../observer/test-events';
import { HistoryLoop } from './history-loop';
import { listSnapshots, snapshotFor } from './snapshot-file';
import { worldAt } from './world-at';

const log = createLogger('history-test', { level: 'silent' });
const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const HOUR = 3_600_000;
const ttl = { serviceTtlMs: DEFAULT_SERVICE_TTL_MS, nodeTtlMs: DEFAULT_NODE_TTL_MS };

interface Appended {
  stream: string;
  event: HomelabEvent;
  rx: Date;
}

/** A day of a small fleet: two nodes and the hub's status stream, events at random gaps, every kind the fold treats differently. */
function generate(seed: number, count: number): Appended[] {
  const rnd = prng(seed);
  const seq: Record<string, number> = { piha: 0, 'chelsty-ha': 0, [HUB_STREAM]: 0 };
  const session: Record<string, number> = { piha: 1, 'chelsty-ha': 1 };
  const out: Appended[] = [];
  let t = T0;
  for (let i = 0; i < count; i++) {
    t += Math.floor(rnd() * 10 * 60_000);
    const node = rnd() < 0.5 ? 'piha' : 'chelsty-ha';
    const service = ['zigbee2mqtt', 'mosquitto', 'grafana'][Math.floor(rnd() * 3)]!;
    const r = rnd();
    if (r < 0.1) {
      const s = ++seq[HUB_STREAM]!;
      const online = rnd() < 0.6;
      if (online) session[node]!++;
      out.push({ stream: HUB_STREAM, event: { ...ev.status(node, s, online, session[node]!), ts: new Date(t).toISOString() }, rx: new Date(t) });
      continue;
    }
    const s = ++seq[node]!;
    const ts = new Date(t).toISOString();
    const event: HomelabEvent =
      r < 0.45
        ? ev.healthy(node, s, service, { ts })
        : r < 0.7
          ? ev.unhealthy(node, s, service, 'containers_not_running', `exit ${s}`, ts)
          : r < 0.8
            ? { ...ev.disk(node, s, '/', rnd() < 0.5 ? 'high' : 'ok', Math.round(rnd() * 100)), ts }
            : r < 0.9
              ? { ...ev.heartbeat(node, s, { uptimeSec: s }), ts }
              : { ...ev.docker(node, s, rnd() < 0.5), ts };
    out.push({ stream: node, event, rx: new Date(t) });
  }
  return out;
}

async function writeLog(root: string, items: Appended[]): Promise<void> {
  const el = new FsEventLog({ root });
  await el.open();
  for (const it of items) await el.append(it.stream, [it.event], it.rx);
  await el.close();
}

const clockAt = (ms: number): Clock => ({ now: () => new Date(ms), setTimeout: () => 0, clearTimeout: () => {} });

describe('world at a past instant', () => {
  let tmp: string;
  let root: string;
  let items: Appended[];

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'hl-world-at-'));
    root = path.join(tmp, 'full');
    items = generate(16, 400);
    await writeLog(root, items);
    // Snapshots every 2 h of the log's day, each made from the previous one as the hub makes them.
    const end = items.at(-1)!.rx.getTime();
    for (let t = T0 + 2 * HOUR; t <= end + HOUR; t += 2 * HOUR) {
      const reader = new FsEventLogReader({ root });
      await new HistoryLoop({ root, reader, clock: clockAt(t), log, aliases: {}, intervalMs: 2 * HOUR, retentionMs: 30 * 24 * HOUR }).runOnce();
    }
  }, 120_000);

  afterAll(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('writes a snapshot per interval of the log', async () => {
    expect((await listSnapshots(root)).length).toBeGreaterThanOrEqual(5);
  });

  it('equals a replay of the log cut at that instant, at random instants and at receive times exactly', async () => {
    const rnd = prng(7);
    const first = items[0]!.rx.getTime();
    const last = items.at(-1)!.rx.getTime();
    const instants = [
      first - 1,
      first,
      last,
      last + HOUR,
      ...Array.from({ length: 6 }, () => first + Math.floor(rnd() * (last - first))),
      ...Array.from({ length: 3 }, () => items[Math.floor(rnd() * items.length)]!.rx.getTime()),
    ];
    let fromSnapshots = 0;
    for (const [i, at] of instants.entries()) {
      const cutRoot = path.join(tmp, `cut-${i}`);
      await writeLog(
        cutRoot,
        items.filter((it) => it.rx.getTime() <= at),
      );
      const expected = (await replay(cutRoot, { aliases: {}, write: false, ttl })).world;
      const snapshot = await snapshotFor(root, new Date(at), aliasesHash({}));
      const got = await worldAt(new FsEventLogReader({ root }), new Date(at), { aliases: {}, snapshot, ...ttl });
      if (got.basedOn) fromSnapshots++;
      expect(got.world, `at ${new Date(at).toISOString()} (snapshot ${got.basedOn})`).toEqual({ services: expected.services, nodes: expected.nodes });
    }
    expect(fromSnapshots).toBeGreaterThanOrEqual(5);
  }, 120_000);

  it('reads at most an interval of the log when a snapshot precedes the instant', async () => {
    const at = new Date(items.at(-1)!.rx.getTime());
    const snapshot = await snapshotFor(root, at, aliasesHash({}));
    const got = await worldAt(new FsEventLogReader({ root }), at, { aliases: {}, snapshot, ...ttl });
    expect(got.basedOn).not.toBeNull();
    expect(got.applied).toBeLessThan(items.filter((it) => it.rx.getTime() > Date.parse(got.basedOn!)).length + 1);
    expect(got.applied).toBeLessThan(items.length / 3);
  });

  it('deletes snapshots past their retention and always keeps the newest', async () => {
    const copy = path.join(tmp, 'retention');
    await fs.cp(root, copy, { recursive: true });
    const before = await listSnapshots(copy);
    const far = Date.parse(before.at(-1)!.cut) + 100 * 24 * HOUR;
    const run = await new HistoryLoop({
      root: copy,
      reader: new FsEventLogReader({ root: copy }),
      clock: clockAt(far),
      log,
      aliases: {},
      intervalMs: 1000 * 24 * HOUR,
      retentionMs: 24 * HOUR,
    }).runOnce();
    expect(run.deleted).toBe(before.length - 1);
    expect((await listSnapshots(copy)).map((s) => s.cut)).toEqual([before.at(-1)!.cut]);
  });
});
