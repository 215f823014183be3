import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { cpuMsOf } from './procs';

/** What the fleet benchmark measures while it runs, and how it reads the hub's files and /metrics afterwards. */

export interface Dist {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function dist(xs: number[]): Dist {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]! : NaN);
  return { n: s.length, p50: q(0.5), p95: q(0.95), p99: q(0.99), max: s.length ? s.at(-1)! : NaN };
}

/** Least-squares slope of ys over xs (per unit of x). */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den ? num / den : NaN;
}

export async function rssMbOf(pid: number | undefined): Promise<number> {
  if (pid === undefined) return NaN;
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

export interface ProcSeries {
  /** CPU of each sampling interval, % of one core. */
  cpuPct: number[];
  rssMb: number[];
  /** Minutes since the window opened, per RSS sample. */
  atMin: number[];
  /** CPU over the whole window, % of one core. */
  cpuPctWindow: number;
}

/** Samples CPU (from /proc/<pid>/stat) and RSS of a group of processes every `everyMs` until stopped. */
export function sampleProcs(pids: () => number[], everyMs: number): { stop(): Promise<ProcSeries> } {
  const series: ProcSeries = { cpuPct: [], rssMb: [], atMin: [], cpuPctWindow: NaN };
  const t0 = performance.now();
  const cpu = async () => (await Promise.all(pids().map((p) => cpuMsOf(p)))).reduce((a, b) => a + b, 0);
  const rss = async () => (await Promise.all(pids().map((p) => rssMbOf(p)))).reduce((a, b) => a + b, 0);
  let last = { t: t0, cpu: NaN };
  const first = cpu().then((c) => {
    last = { t: performance.now(), cpu: c };
    return last;
  });
  const tick = async () => {
    const [c, r] = await Promise.all([cpu(), rss()]);
    const t = performance.now();
    if (Number.isFinite(last.cpu)) series.cpuPct.push(((c - last.cpu) / (t - last.t)) * 100);
    series.rssMb.push(r);
    series.atMin.push((t - t0) / 60_000);
    last = { t, cpu: c };
  };
  const timer = setInterval(() => void tick(), everyMs);
  return {
    async stop() {
      clearInterval(timer);
      const start = await first;
      await tick();
      series.cpuPctWindow = ((last.cpu - start.cpu) / (last.t - start.t)) * 100;
      return series;
    },
  };
}

/**
 * GET `url` with a bearer token at a fixed rate (not waiting for answers) until
 * stopped; each answer's ms. A request still unanswered at stop counts with the
 * time it has waited so far (a lower bound: the tail is never flattered) and in `unanswered`.
 */
export function pollAtRate(url: string, token: string, perSec: number): { stop(): { ms: number[]; errors: number; unanswered: number } } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const ms: number[] = [];
  let errors = 0;
  const inflight = new Map<http.ClientRequest, number>();
  const one = () => {
    const t0 = performance.now();
    const req = http.get(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => {
        if (!inflight.delete(req)) return;
        if (res.statusCode === 200) ms.push(performance.now() - t0);
        else errors++;
      });
    });
    req.on('error', () => {
      if (inflight.delete(req)) errors++;
    });
    inflight.set(req, t0);
  };
  const timer = setInterval(one, 1000 / perSec);
  return {
    stop() {
      clearInterval(timer);
      const now = performance.now();
      const unanswered = inflight.size;
      for (const [req, t0] of inflight) {
        ms.push(now - t0);
        req.destroy();
      }
      inflight.clear();
      agent.destroy();
      return { ms, errors, unanswered };
    },
  };
}

export async function fetchText(url: string, token: string): Promise<string> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.text();
}

/** Cumulative buckets (le → count), the count and the sum of an unlabelled histogram in a /metrics text. */
export function histogramOf(text: string, name: string): { buckets: Map<number, number>; count: number; sum: number } {
  const buckets = new Map<number, number>();
  let count = 0;
  let sum = 0;
  for (const line of text.split('\n')) {
    const b = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`).exec(line);
    if (b) buckets.set(b[1] === '+Inf' ? Infinity : Number(b[1]), Number(b[2]));
    else if (line.startsWith(`${name}_count `)) count = Number(line.split(' ')[1]);
    else if (line.startsWith(`${name}_sum `)) sum = Number(line.split(' ')[1]);
  }
  return { buckets, count, sum };
}

export function counterOf(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

/** Quantile q of the observations between two scrapes of a histogram, interpolated linearly inside its bucket (as PromQL's histogram_quantile). */
export function histogramQuantile(before: ReturnType<typeof histogramOf>, after: ReturnType<typeof histogramOf>, q: number): number {
  const les = [...after.buckets.keys()].sort((a, b) => a - b);
  const delta = les.map((le) => (after.buckets.get(le) ?? 0) - (before.buckets.get(le) ?? 0));
  const total = delta.at(-1) ?? 0;
  if (!total) return NaN;
  const rank = q * total;
  for (let i = 0; i < les.length; i++) {
    if (delta[i]! >= rank) {
      const lo = i ? les[i - 1]! : 0;
      const hi = les[i]!;
      if (!Number.isFinite(hi)) return lo;
      const below = i ? delta[i - 1]! : 0;
      return lo + ((hi - lo) * (rank - below)) / Math.max(1, delta[i]! - below);
    }
  }
  return NaN;
}

export interface Failure {
  node: string;
  service: string;
  at: number;
}

/** The failures the simulators recorded (failures-*.jsonl in `dir`), and how many were repaired by the hub or by themselves. */
export async function readFailures(dir: string): Promise<{ failures: Failure[]; byHub: number; bySelf: number }> {
  const failures: Failure[] = [];
  let byHub = 0;
  let bySelf = 0;
  for (const f of await fs.readdir(dir)) {
    if (!/^failures-\d+\.jsonl$/.test(f)) continue;
    for (const line of (await fs.readFile(path.join(dir, f), 'utf8')).split('\n')) {
      if (!line) continue;
      const o = JSON.parse(line) as Failure & { by?: string };
      if (o.by === 'hub') byHub++;
      else if (o.by === 'self') bySelf++;
      else failures.push(o);
    }
  }
  return { failures, byHub, bySelf };
}

/**
 * Detection at the hub: for each failure, the first `service_unhealthy` of that
 * service (not a heartbeat repeat) the hub logged at or after the failure, by the
 * hub's receive time `rx` in the event log — both times from this machine's one
 * clock, so no offset enters. Returns ms per matched failure and the count of unmatched.
 */
export async function detectionMs(root: string, failures: Failure[]): Promise<{ ms: number[]; unmatched: number }> {
  const nodes = new Set(failures.map((f) => f.node));
  const rxOf = new Map<string, number[]>();
  const eventsDir = path.join(root, 'events');
  for (const day of await fs.readdir(eventsDir).catch(() => [] as string[])) {
    for (const node of nodes) {
      const text = await fs.readFile(path.join(eventsDir, day, `${node}.jsonl`), 'utf8').catch(() => '');
      for (const line of text.split('\n')) {
        if (!line.includes('"service_unhealthy"') || line.includes('"heartbeat":true')) continue;
        const { event, rx } = JSON.parse(line) as { event: { service: string }; rx: string };
        const key = `${node}/${event.service}`;
        const list = rxOf.get(key) ?? [];
        list.push(Date.parse(rx));
        rxOf.set(key, list);
      }
    }
  }
  const ms: number[] = [];
  let unmatched = 0;
  for (const f of failures) {
    const rx = (rxOf.get(`${f.node}/${f.service}`) ?? []).filter((t) => t >= f.at).sort((a, b) => a - b)[0];
    if (rx === undefined) unmatched++;
    else ms.push(rx - f.at);
  }
  return { ms, unmatched };
}
