import fs from 'node:fs/promises';
import path from 'node:path';
import { HUB_STREAM, StoredEvent, type HomelabEvent } from '@homelab/contracts';
import { encodeLine, isCanonicalEvent, relFile } from '@homelab/event-log';
import { makeTempDir } from '@homelab/testkit';
import { eventSource } from './events';
import { median, nodeArgs, spawnJsonLines } from './procs';

/**
 * Replay of a generated log (default 1,000,000 events: service heartbeats and
 * state changes of 20 nodes × 40 services over 5 days, plus the hub's status
 * stream), written line by line with the event log's own encoder. Each pass
 * runs in a fresh process pinned to one core (`taskset -c`), alternating with
 * the two baselines (newline counting, JSON.parse per line) of the same files.
 */

export type ReplayMode = 'count' | 'parse' | 'replay';
const MODES: ReplayMode[] = ['count', 'parse', 'replay'];

export interface ReplayOptions {
  events: number;
  reps: number;
  nodes?: number;
  services?: number;
  days?: number;
  /** CPU the passes are pinned to. */
  cpu?: number;
  log: (s: string) => void;
}

interface WorkerResult {
  mode: ReplayMode;
  events: number;
  ms: number;
  cpuMs: number;
  peakRssMb: number;
  peakHeapMb: number;
  vmHwmMb: number | null;
  rssAt: { events: number; rssMb: number; heapMb: number }[];
}

export interface ReplaySummary {
  events: number;
  logBytes: number;
  files: number;
  nodes: number;
  services: number;
  days: number;
  reps: number;
  cpu: number;
  runs: WorkerResult[];
  median: Record<ReplayMode, { ms: number; rate: number; cpuRate: number; peakRssMb: number; peakHeapMb: number }>;
  ratio: { replayVsCount: number; replayVsParse: number };
  /** RSS and heap of the median replay run at each 100,000 events: flat when streaming. */
  rssCurve: { events: number; rssMb: number; heapMb: number }[];
}

/** Writes the log; returns its size in bytes and number of files. */
export async function generateLog(
  root: string,
  opts: { events: number; nodes: number; services: number; days: number },
): Promise<{ bytes: number; files: number }> {
  const src = eventSource({ services: opts.services, seed: 11 });
  const nodes = Array.from({ length: opts.nodes }, (_, i) => `node-${String(i + 1).padStart(2, '0')}`);
  const start = Date.parse('2026-03-01T00:00:00.000Z');
  const perDay = Math.ceil(opts.events / opts.days);
  let bytes = 0;
  let files = 0;
  let hubSeq = 0;
  let written = 0;
  for (let d = 0; d < opts.days && written < opts.events; d++) {
    const date = new Date(start + d * 86_400_000).toISOString().slice(0, 10);
    await fs.mkdir(path.join(root, 'events', date), { recursive: true });
    const parts = new Map<string, string[]>();
    const add = (stream: string, rec: StoredEvent) => {
      let list = parts.get(stream);
      if (!list) parts.set(stream, (list = []));
      // Validated as FsEventLog.append does (exact fast check, else zod): the lines are exactly what the hub writes.
      list.push(encodeLine(isCanonicalEvent(rec.event) ? rec : StoredEvent.parse(rec)));
      written++;
    };
    const quota = Math.min(perDay, opts.events - written);
    const dayStart = written;
    let i = 0;
    while (written - dayStart < quota) {
      // Each day opens with a birth per node on the hub's stream (node_online), as after a restart.
      if (i < nodes.length) {
        const node = nodes[i]!;
        hubSeq++;
        const ts = new Date(start + d * 86_400_000 + i).toISOString();
        const online: HomelabEvent = { id: `hub-${hubSeq}`, node, seq: hubSeq, ts, type: 'node_online', data: { session: d + 1, version: '0.1.0' } };
        add(HUB_STREAM, { event: online, rx: ts });
        if (written - dayStart >= quota) break;
      }
      const k = i % nodes.length;
      const event = src.next(nodes[k]!, k);
      const rx = new Date(start + d * 86_400_000 + Math.floor((i * 86_400_000) / quota)).toISOString();
      add(event.node, { event, rx });
      i++;
    }
    for (const [stream, lines] of parts) {
      const text = lines.join('');
      bytes += Buffer.byteLength(text);
      files++;
      await fs.writeFile(path.join(root, 'events', relFile(date, stream)), text);
    }
  }
  return { bytes, files };
}

async function pass(mode: ReplayMode, root: string, cpu: number): Promise<WorkerResult> {
  const p = spawnJsonLines('taskset', ['-c', String(cpu), process.execPath, ...nodeArgs('replay-worker.ts', ['--mode', mode, '--root', root])]);
  try {
    return await p.waitFor<WorkerResult>('result', 300_000);
  } finally {
    await p.exited;
  }
}

export async function benchReplay(opts: ReplayOptions): Promise<ReplaySummary> {
  const nodes = opts.nodes ?? 20;
  const services = opts.services ?? 40;
  const days = opts.days ?? 5;
  const cpu = opts.cpu ?? 1;
  const tmp = await makeTempDir('hl-bench-replay');
  try {
    const t = performance.now();
    const { bytes, files } = await generateLog(tmp.path, { events: opts.events, nodes, services, days });
    opts.log(
      `  generated ${opts.events.toLocaleString('en-US')} events (${(bytes / 2 ** 20).toFixed(0)} MiB, ${files} files) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    const runs: WorkerResult[] = [];
    for (let rep = 0; rep < opts.reps; rep++) {
      const order = MODES.map((_, i) => MODES[(i + rep) % MODES.length]!);
      for (const mode of order) {
        const r = await pass(mode, tmp.path, cpu);
        if (r.events !== opts.events) throw new Error(`${mode} saw ${r.events} events, expected ${opts.events}`);
        runs.push(r);
        opts.log(
          `  replay rep ${rep + 1}/${opts.reps} ${mode.padEnd(7)} ${(r.ms / 1000).toFixed(2)} s (CPU ${(r.cpuMs / 1000).toFixed(2)} s)  ` +
            `${Math.round((r.events / r.ms) * 1000).toLocaleString('en-US')} events/s  peak RSS ${r.peakRssMb.toFixed(0)} MB, heap ${r.peakHeapMb.toFixed(0)} MB`,
        );
      }
    }
    const med = {} as ReplaySummary['median'];
    for (const m of MODES) {
      const rs = runs.filter((r) => r.mode === m);
      const ms = median(rs.map((r) => r.ms));
      med[m] = {
        ms,
        rate: (opts.events / ms) * 1000,
        cpuRate: (opts.events / median(rs.map((r) => r.cpuMs))) * 1000,
        peakRssMb: median(rs.map((r) => r.peakRssMb)),
        peakHeapMb: median(rs.map((r) => r.peakHeapMb)),
      };
    }
    const replays = runs.filter((r) => r.mode === 'replay').sort((a, b) => a.ms - b.ms);
    return {
      events: opts.events,
      logBytes: bytes,
      files,
      nodes,
      services,
      days,
      reps: opts.reps,
      cpu,
      runs,
      median: med,
      ratio: { replayVsCount: med.replay.rate / med.count.rate, replayVsParse: med.replay.rate / med.parse.rate },
      rssCurve: replays[replays.length >> 1]?.rssAt ?? [],
    };
  } finally {
    await tmp.cleanup();
  }
}
