import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { makeTempDir } from '@homelab/testkit';
import { provisionMqtt } from '../support/mqtt-identities';
import {
  countStoredLines,
  cpuMsOf,
  hubArgs,
  median,
  nodeArgs,
  spawnHub,
  spawnJsonLines,
  startBenchMosquitto,
  waitForFileText,
  type JsonLineProcess,
} from './procs';

/**
 * Durable ingest: the same QoS 1 load (N events of ~200 bytes from 3 nodes,
 * one MQTT.js connection per node, in a publisher process of its own) goes
 *  - baseline: Mosquitto → `mosquitto_sub -q 1 > file`, timed until the
 *    subscriber has received all N (it exits at N, `-C`) and its file holds N lines;
 *  - hub: `homelab hub` (embedded aedes), timed until its durable-write acks
 *    (sent after fdatasync) cover every node's last seq;
 *  - hub-ext: `homelab hub --mqtt-url` against Mosquitto, timed the same way.
 * Runs alternate (rotating order) so that noise hits every variant alike.
 */

export type IngestVariant = 'mosquitto_sub' | 'hub' | 'hub-ext';
/** Goal for both hub variants: at least the rate of the baseline in the same run (docs/benchmarks.md). */
export const INGEST_GOAL = 1.0;
export const INGEST_VARIANTS: IngestVariant[] = ['mosquitto_sub', 'hub', 'hub-ext'];

export interface IngestOptions {
  events: number;
  reps: number;
  window: number;
  nodes: string[];
  variants: IngestVariant[];
  log: (s: string) => void;
}

export interface IngestRun {
  variant: IngestVariant;
  ms: number;
  rate: number;
  /** CPU time of the receiving side during the run: mosquitto + mosquitto_sub, the hub, or the hub + mosquitto. */
  serverCpuMs: number;
  /** CPU time of the publisher process while publishing. */
  publisherCpuMs: number;
  /** The part of serverCpuMs that Mosquitto used (baseline and hub-ext), to tell the broker's share from the subscriber's. */
  brokerCpuMs?: number;
}

interface Measured {
  ms: number;
  serverCpuMs: number;
  publisherCpuMs: number;
  brokerCpuMs?: number;
}

export interface IngestSummary {
  events: number;
  avgBytes: number;
  reps: number;
  window: number;
  runs: IngestRun[];
  median: Partial<
    Record<IngestVariant, { ms: number; rate: number; serverCpuUsPerEvent: number; publisherCpuUsPerEvent: number; brokerCpuUsPerEvent?: number }>
  >;
  ratio: Partial<Record<'hub' | 'hub-ext', number>>;
}

let avgBytes = 0;

async function startPublisher(url: string, opts: IngestOptions, acks: boolean): Promise<JsonLineProcess> {
  const args = ['--url', url, '--nodes', opts.nodes.join(','), '--events', String(opts.events), '--window', String(opts.window)];
  if (acks) args.push('--acks');
  const pub = spawnJsonLines(process.execPath, nodeArgs('publisher.ts', args));
  const ready = await pub.waitFor<{ avgBytes: number }>('ready', 60_000);
  avgBytes = ready.avgBytes;
  return pub;
}

async function runBaseline(dir: string, opts: IngestOptions): Promise<Measured> {
  const mq = await startBenchMosquitto(path.join(dir, 'mosquitto'));
  const outFile = path.join(dir, 'sub.jsonl');
  const fh = await fs.open(outFile, 'w');
  // Through bash only to learn mosquitto_sub's CPU time (`times` prints its children's) once it has exited.
  const subCmd = `mosquitto_sub -h 127.0.0.1 -p ${mq.port} -q 1 -i bench-sub -t 'homelab/v1/nodes/+/events' -C ${opts.events} >&3; code=$?; times >&2; exit $code`;
  const sub = spawn('bash', ['-c', subCmd], { stdio: ['ignore', 'ignore', 'pipe', fh.fd] });
  await fh.close();
  let times = '';
  sub.stderr!.on('data', (d: Buffer) => (times += d.toString()));
  const subExit = new Promise<number | null>((resolve) => sub.once('close', (c) => resolve(c)));
  let pub: JsonLineProcess | undefined;
  try {
    await waitForFileText(mq.logFile, 'bench-sub 1 homelab/v1/nodes/+/events');
    pub = await startPublisher(mq.url, opts, false);
    const cpu0 = await cpuMsOf(mq.pid);
    const t0 = performance.now();
    pub.send('go');
    const code = await subExit;
    const ms = performance.now() - t0;
    const brokerCpu = (await cpuMsOf(mq.pid)) - cpu0;
    if (code !== 0) throw new Error(`mosquitto_sub exited with ${code}: ${times}`);
    const lines = await countLinesOf(outFile);
    if (lines !== opts.events) throw new Error(`mosquitto_sub wrote ${lines} lines, expected ${opts.events}`);
    const published = await pub.waitFor<{ cpuMs: number }>('published');
    await pub.exited;
    return { ms, serverCpuMs: brokerCpu + childTimesMs(times), publisherCpuMs: published.cpuMs, brokerCpuMs: brokerCpu };
  } finally {
    pub?.kill();
    if (sub.exitCode === null) sub.kill('SIGKILL');
    await mq.stop();
  }
}

/** Children's user + system time from bash's `times` (second line, e.g. `0m1.234s 0m0.210s`). */
function childTimesMs(times: string): number {
  const line = times.trim().split('\n')[1] ?? '';
  let ms = 0;
  for (const m of line.matchAll(/(\d+)m([\d.]+)s/g)) ms += (Number(m[1]) * 60 + Number(m[2])) * 1000;
  return ms;
}

async function countLinesOf(file: string): Promise<number> {
  const buf = await fs.readFile(file);
  let n = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

async function runHub(dir: string, opts: IngestOptions, external: boolean): Promise<Measured> {
  const mq = external ? await startBenchMosquitto(path.join(dir, 'mosquitto')) : undefined;
  const root = path.join(dir, 'root');
  const hosts = path.join(dir, 'hosts');
  await fs.mkdir(hosts, { recursive: true });
  const { args, url } = await hubArgs(root, hosts, mq?.url);
  // The embedded broker admits only known identities; the publisher logs in with testSecret(node).
  // Its per-node rate limit is off: this measures the ceiling.
  await provisionMqtt(root, opts.nodes);
  const hub = spawnHub(args, path.join(dir, 'hub.log'), { HOMELAB_MQTT_RATE_LIMIT: '0' });
  let pub: JsonLineProcess | undefined;
  try {
    await hub.waitForOutput('hub running', 60_000);
    pub = await startPublisher(url, opts, true);
    const [hub0, mq0] = [await cpuMsOf(hub.pid), await cpuMsOf(mq?.pid)];
    const t0 = performance.now();
    pub.send('go');
    const acked = await pub.waitFor<{ cpuMs: number }>('acked', 300_000);
    const ms = performance.now() - t0;
    const brokerCpuMs = (await cpuMsOf(mq?.pid)) - mq0;
    const serverCpuMs = (await cpuMsOf(hub.pid)) - hub0 + brokerCpuMs;
    const stored = await countStoredLines(root);
    const per = Math.floor(opts.events / opts.nodes.length);
    for (const [i, n] of opts.nodes.entries()) {
      const want = per + (i < opts.events % opts.nodes.length ? 1 : 0);
      if (stored.get(n) !== want) throw new Error(`hub stored ${stored.get(n) ?? 0} lines of ${n}, expected ${want}`);
    }
    await pub.exited;
    return { ms, serverCpuMs, publisherCpuMs: acked.cpuMs, ...(mq ? { brokerCpuMs } : {}) };
  } finally {
    pub?.kill();
    await hub.stop(10_000);
    await mq?.stop();
  }
}

export async function benchIngest(opts: IngestOptions): Promise<IngestSummary> {
  const runs: IngestRun[] = [];
  const tmp = await makeTempDir('hl-bench-ingest');
  try {
    for (let rep = 0; rep < opts.reps; rep++) {
      // Rotate the order, so no variant always runs first (or right after the same one).
      const order = opts.variants.map((_, i) => opts.variants[(i + rep) % opts.variants.length]!);
      for (const variant of order) {
        const dir = path.join(tmp.path, `${rep}-${variant}`);
        await fs.mkdir(dir, { recursive: true });
        const m = variant === 'mosquitto_sub' ? await runBaseline(dir, opts) : await runHub(dir, opts, variant === 'hub-ext');
        const rate = (opts.events / m.ms) * 1000;
        runs.push({ variant, rate, ...m });
        opts.log(
          `  ingest rep ${rep + 1}/${opts.reps} ${variant.padEnd(13)} ${(m.ms / 1000).toFixed(2)} s  ${Math.round(rate).toLocaleString('en-US')} events/s` +
            `  (CPU: receiving side ${(m.serverCpuMs / 1000).toFixed(2)} s${m.brokerCpuMs === undefined ? '' : ` of which mosquitto ${(m.brokerCpuMs / 1000).toFixed(2)} s`}, publisher ${(m.publisherCpuMs / 1000).toFixed(2)} s)`,
        );
        await fs.rm(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await tmp.cleanup();
  }
  const med: IngestSummary['median'] = {};
  for (const v of opts.variants) {
    const rs = runs.filter((r) => r.variant === v);
    const ms = median(rs.map((r) => r.ms));
    med[v] = {
      ms,
      rate: (opts.events / ms) * 1000,
      serverCpuUsPerEvent: (median(rs.map((r) => r.serverCpuMs)) * 1000) / opts.events,
      publisherCpuUsPerEvent: (median(rs.map((r) => r.publisherCpuMs)) * 1000) / opts.events,
      ...(v === 'hub' ? {} : { brokerCpuUsPerEvent: (median(rs.map((r) => r.brokerCpuMs ?? 0)) * 1000) / opts.events }),
    };
  }
  const ratio: IngestSummary['ratio'] = {};
  const base = med.mosquitto_sub?.rate;
  if (base) {
    if (med.hub) ratio.hub = med.hub.rate / base;
    if (med['hub-ext']) ratio['hub-ext'] = med['hub-ext'].rate / base;
  }
  return { events: opts.events, avgBytes, reps: opts.reps, window: opts.window, runs, median: med, ratio };
}
