import fs from 'node:fs/promises';
import path from 'node:path';
import { freePort, makeTempDir, sleep } from '@homelab/testkit';
import { cpuMsOf, median, spawnHub } from './procs';
import { BENCH_HUB_ENV, deleteObserverState, ensureCheckpoint, getStatus, preparedRoot, type FleetShape, type PreparedRoot } from './startup-data';

/**
 * Start of the hub on a large data root (docs/benchmarks.md, "Hub start"):
 * `homelab hub` (node apps/cli/bin/homelab.mjs hub, as `npm start` and the
 * README run it) from spawn until an authenticated `GET /summary` answers 200
 * with every service of the fleet, on
 *  - small:      the same fleet with 10,000 events and a checkpoint (the floor: loading the hub itself);
 *  - checkpoint: 10,000,000 events and a checkpoint;
 *  - replay:     the same root with the observer's state deleted (checkpoint, fold state,
 *                world files), so the hub folds the whole log before it serves.
 * Alternating, several runs each; the hub's RSS is read from /proc every 20 ms.
 */

export type StartVariant = 'small' | 'checkpoint' | 'replay';
export const START_VARIANTS: StartVariant[] = ['small', 'checkpoint', 'replay'];

export interface StartupOptions {
  events: number;
  smallEvents: number;
  nodes: number;
  services: number;
  days: number;
  reps: number;
  variants: StartVariant[];
  log: (s: string) => void;
}

export interface StartRun {
  variant: StartVariant;
  /** Spawn → first 200 of GET /summary. */
  ms: number;
  /** CPU (user + system) of the hub until then. */
  cpuMs: number;
  peakRssMb: number;
  /** RSS every 250 ms until ready (MB). */
  rssTimeline: number[];
  /** Milliseconds from spawn to each line the hub logged before it was ready. */
  logAt: { ms: number; msg: string }[];
}

export interface StartupSummary {
  big: PreparedRoot;
  small: PreparedRoot;
  reps: number;
  runs: StartRun[];
  median: Partial<Record<StartVariant, { ms: number; cpuMs: number; peakRssMb: number }>>;
  /** Events per second of the replay: events / (replay start − checkpoint start), medians. */
  replayRate: number | null;
  /** The same by the hub's CPU time (what other load on the machine disturbs less). */
  replayCpuRate: number | null;
}

const SAMPLE_MS = 20;

async function rssMb(pid: number): Promise<number> {
  const s = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = /VmRSS:\s+(\d+) kB/.exec(s);
  return m ? Number(m[1]) / 1024 : 0;
}

async function logLines(file: string, t0: number): Promise<{ ms: number; msg: string }[]> {
  const out: { ms: number; msg: string }[] = [];
  for (const line of (await fs.readFile(file, 'utf8').catch(() => '')).split('\n')) {
    try {
      const o = JSON.parse(line) as { time?: string; msg?: string; part?: string };
      if (o.time && o.msg) out.push({ ms: Date.parse(o.time) - t0, msg: `${o.part ? `${o.part}: ` : ''}${o.msg}`.slice(0, 100) });
    } catch {
      // not a log line
    }
  }
  return out;
}

async function startOnce(variant: StartVariant, r: PreparedRoot, dir: string): Promise<StartRun> {
  if (variant === 'replay') await deleteObserverState(r.root);
  else await ensureCheckpoint(r);
  const httpPort = await freePort();
  const args = ['--root', r.root, '--hosts', r.hosts, '--http-port', String(httpPort), '--mqtt-port', String(await freePort())];
  const logFile = path.join(dir, `${variant}-${Date.now()}.log`);
  const t0wall = Date.now();
  const t0 = performance.now();
  const hub = spawnHub(args, logFile, BENCH_HUB_ENV);
  const timeline: number[] = [];
  let peak = 0;
  let lastTimeline = -Infinity;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const mb = await rssMb(hub.pid);
      peak = Math.max(peak, mb);
      const now = performance.now() - t0;
      if (now - lastTimeline >= 250) {
        timeline.push(mb);
        lastTimeline = now;
      }
      await sleep(SAMPLE_MS);
    }
  })();
  try {
    const url = `http://127.0.0.1:${httpPort}/summary`;
    for (;;) {
      if (!hub.running) throw new Error(`hub exited before serving /summary: ${hub.output()}`);
      const res = await getStatus(url, r.viewerToken);
      if (res.status === 200) {
        const ms = performance.now() - t0;
        const cpuMs = await cpuMsOf(hub.pid);
        const summary = JSON.parse(res.body) as { serviceCounts?: { total: number } };
        const expected = r.nodes * r.services;
        const got = summary.serviceCounts?.total;
        if (got !== expected) throw new Error(`${variant}: /summary lists ${got} services, expected ${expected}`);
        sampling = false;
        await sampler;
        // A SIGTERM before the start has finished would end the process before it releases its lock (and writes a --cpu-prof).
        await hub.waitForOutput('hub running', 120_000);
        const logged = await logLines(logFile, t0wall);
        const replayed = logged.some((l) => l.msg.includes('replays the whole event log'));
        if (replayed !== (variant === 'replay')) throw new Error(`${variant}: the hub ${replayed ? 'replayed' : 'did not replay'} the log`);
        return { variant, ms, cpuMs, peakRssMb: peak, rssTimeline: timeline, logAt: logged.filter((l) => l.ms <= ms) };
      }
      if (res.status !== 0) throw new Error(`${variant}: GET /summary answered ${res.status}`);
      await sleep(10);
    }
  } finally {
    sampling = false;
    await sampler;
    await hub.stop(120_000);
  }
}

export async function benchStartup(opts: StartupOptions): Promise<StartupSummary> {
  const shape = (events: number): FleetShape => ({ events, nodes: opts.nodes, services: opts.services, days: opts.days });
  const big = await preparedRoot(shape(opts.events), opts.log);
  const small = await preparedRoot(shape(opts.smallEvents), opts.log);
  opts.log(
    `  data roots: ${opts.events.toLocaleString('en-US')} events (${(big.logBytes / 2 ** 30).toFixed(2)} GiB, ${big.files} files; written in ${big.generateSeconds.toFixed(0)} s + ${big.prepareSeconds.toFixed(0)} s replay and first start) and ${opts.smallEvents.toLocaleString('en-US')} events`,
  );
  const tmp = await makeTempDir('hl-bench-startup');
  const runs: StartRun[] = [];
  try {
    for (let rep = 0; rep < opts.reps; rep++) {
      const order = opts.variants.map((_, i) => opts.variants[(i + rep) % opts.variants.length]!);
      for (const v of order) {
        const r = await startOnce(v, v === 'small' ? small : big, tmp.path);
        runs.push(r);
        opts.log(
          `  start rep ${rep + 1}/${opts.reps} ${v.padEnd(10)} ${(r.ms / 1000).toFixed(2)} s (CPU ${(r.cpuMs / 1000).toFixed(2)} s)  peak RSS ${r.peakRssMb.toFixed(0)} MB`,
        );
      }
    }
  } finally {
    await tmp.cleanup();
  }
  const med: StartupSummary['median'] = {};
  for (const v of opts.variants) {
    const rs = runs.filter((r) => r.variant === v);
    med[v] = { ms: median(rs.map((r) => r.ms)), cpuMs: median(rs.map((r) => r.cpuMs)), peakRssMb: median(rs.map((r) => r.peakRssMb)) };
  }
  const replayRate = med.replay && med.checkpoint ? (opts.events / (med.replay.ms - med.checkpoint.ms)) * 1000 : null;
  const replayCpuRate = med.replay && med.checkpoint ? (opts.events / (med.replay.cpuMs - med.checkpoint.cpuMs)) * 1000 : null;
  return { big, small, reps: opts.reps, runs, median: med, replayRate, replayCpuRate };
}
