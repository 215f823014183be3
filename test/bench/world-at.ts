/**
 * Cost of time travel (docs/observer-runtime.md, "World at a past instant"):
 *   npx tsx test/bench/world-at.ts [--events 200000]
 * A generated log (20 nodes × 40 services over 5 days, as the replay benchmark
 * writes it), hourly history snapshots made as the hub makes them (each from
 * the previous), then `worldAt` at random instants from zero and from the
 * newest snapshot before them. Prints one JSON line.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FsEventLogReader } from '@homelab/event-log';
import { createLogger } from '@homelab/logging';
import { aliasesHash, HistoryLoop, listSnapshots, snapshotFor, worldAt } from '@homelab/hub/history';
import { generateLog } from './replay';

const { values } = parseArgs({ options: { events: { type: 'string', default: '200000' } } });
const events = Number(values.events);
const root = await fs.mkdtemp(path.join(os.tmpdir(), 'hl-bench-world-at-'));
const log = createLogger('bench', { level: 'silent' });
const HOUR = 3_600_000;
const start = Date.parse('2026-03-01T00:00:00.000Z');
try {
  const { bytes } = await generateLog(root, { events, nodes: 20, services: 40, days: 5 });
  const snapMs: number[] = [];
  for (let t = start + HOUR; t <= start + 5 * 24 * HOUR; t += HOUR) {
    const clock = { now: () => new Date(t), setTimeout: () => 0, clearTimeout: () => {} };
    const t0 = performance.now();
    await new HistoryLoop({ root, reader: new FsEventLogReader({ root }), clock, log, aliases: {}, intervalMs: HOUR, retentionMs: 30 * 24 * HOUR }).runOnce();
    snapMs.push(performance.now() - t0);
  }
  const snaps = await listSnapshots(root);
  let snapBytes = 0;
  for (const s of snaps) snapBytes += (await fs.stat(s.file)).size;
  const ttl = { serviceTtlMs: 3_600_000, nodeTtlMs: 7 * 24 * HOUR };
  const fromZero: number[] = [];
  const fromSnap: number[] = [];
  for (let i = 0; i < 5; i++) {
    const at = new Date(start + (1 + i) * 22 * HOUR + 17 * 60_000);
    let t0 = performance.now();
    await worldAt(new FsEventLogReader({ root }), at, { aliases: {}, snapshot: null, ...ttl });
    fromZero.push(performance.now() - t0);
    t0 = performance.now();
    const snapshot = await snapshotFor(root, at, aliasesHash({}));
    await worldAt(new FsEventLogReader({ root }), at, { aliases: {}, snapshot, ...ttl });
    fromSnap.push(performance.now() - t0);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    JSON.stringify({
      events,
      logMiB: +(bytes / 2 ** 20).toFixed(1),
      snapshots: snaps.length,
      snapshotKiB: +(snapBytes / snaps.length / 1024).toFixed(1),
      historyMiB: +(snapBytes / 2 ** 20).toFixed(1),
      snapshotWriteMsMedian: Math.round(median(snapMs.slice(1))),
      worldAtFromZeroMsMedian: Math.round(median(fromZero)),
      worldAtFromSnapshotMsMedian: Math.round(median(fromSnap)),
    }),
  );
} finally {
  await fs.rm(root, { recursive: true, force: true });
}
