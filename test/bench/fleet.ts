import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { makeTempDir, sleep } from '@homelab/testkit';
import {
  counterOf,
  detectionMs,
  dist,
  fetchText,
  histogramOf,
  histogramQuantile,
  pollAtRate,
  readFailures,
  sampleProcs,
  slope,
  type Dist,
  type ProcSeries,
} from './fleet-measure';
import { copyCredentials, makeFleetCredentials, startFleetMosquitto, writeFleetHosts } from './fleet-setup';
import { hubArgs, median, nodeArgs, spawnHub, spawnJsonLines, type JsonLineProcess } from './procs';

/**
 * `npm run bench -- fleet`: a thousand simulated agents (test/bench/fleet-sim.ts:
 * the real NodeAgent on an in-memory Docker, each with its own MQTT connection
 * and identity) in a few processes, against the real `homelab hub` on a real
 * data root, once through Mosquitto (`--mqtt-url`, configured with the files
 * `homelab broker-config` writes) and once through the embedded broker. At
 * steady state: the hub's CPU and RSS, Mosquitto's, detection at the hub,
 * supervisor cycle time (/metrics), `/summary` at a fixed request rate, and
 * the simulators' own CPU. docs/benchmarks.md, "A thousand nodes".
 */
export type FleetVariant = 'mosquitto' | 'embedded';
export const FLEET_VARIANTS: FleetVariant[] = ['mosquitto', 'embedded'];

export interface FleetOptions {
  nodes: number;
  services: number;
  procs: number;
  rampMs: number;
  warmupMs: number;
  windowMs: number;
  failPerMin: number;
  selfHealMs: number;
  summaryPerSec: number;
  variants: FleetVariant[];
  log: (s: string) => void;
}

export interface ProcFigures {
  cpuMedian: number;
  cpuMax: number;
  cpuWindow: number;
  rssMedian: number;
  rssMax: number;
  rssSlopePerMin: number;
}

export interface FleetVariantResult {
  variant: FleetVariant;
  /** From the first agent's start to every agent connected (the start is spread over rampMs). */
  connectMs: number;
  hub: ProcFigures;
  broker: ProcFigures | null;
  sims: ProcFigures;
  eventsPerSec: number;
  failures: number;
  detection: Dist & { unmatched: number };
  restoredByHub: number;
  selfHealed: number;
  supervisor: { cycles: number; p50: number; p95: number; meanMs: number };
  summary: Dist & { errors: number; unanswered: number };
  /** The hub or a simulator that exited during the run, with its last output. */
  problems: string[];
  load: [number, number];
}

export interface FleetResult {
  options: Omit<FleetOptions, 'log'>;
  credentialsMs: number;
  variants: FleetVariantResult[];
}

const figures = (s: ProcSeries): ProcFigures => ({
  cpuMedian: median(s.cpuPct),
  cpuMax: Math.max(...s.cpuPct),
  cpuWindow: s.cpuPctWindow,
  rssMedian: median(s.rssMb),
  rssMax: Math.max(...s.rssMb),
  rssSlopePerMin: slope(s.atMin, s.rssMb),
});

async function runVariant(variant: FleetVariant, dir: string, hostsDir: string, credentials: string, o: FleetOptions): Promise<FleetVariantResult> {
  const load0 = os.loadavg()[0]!;
  const root = path.join(dir, 'root');
  await copyCredentials(credentials, root);
  const mq = variant === 'mosquitto' ? await startFleetMosquitto(dir, root) : undefined;
  const { args, url, httpPort } = await hubArgs(root, hostsDir, mq?.url);
  const hub = spawnHub(args, path.join(dir, 'hub.log'), mq ? { HOMELAB_MQTT_PASSWORD_FILE: mq.hubPasswordFile } : {});
  const sims: JsonLineProcess[] = [];
  const problems: string[] = [];
  try {
    await hub.waitForOutput('hub running', 120_000);
    const token = (JSON.parse(await fs.readFile(path.join(root, 'auth/initial-credentials.json'), 'utf8')) as { viewerToken: string }).viewerToken;
    const base = `http://127.0.0.1:${httpPort}`;
    const per = Math.ceil(o.nodes / o.procs);
    const t0 = performance.now();
    for (let first = 0; first < o.nodes; first += per) {
      const count = Math.min(per, o.nodes - first);
      const simArgs = ['--url', url, '--first', String(first), '--count', String(count), '--services', String(o.services), '--dir', dir];
      simArgs.push('--ramp-ms', String(o.rampMs), '--fail-per-min', String(o.failPerMin), '--self-heal-ms', String(o.selfHealMs));
      sims.push(spawnJsonLines(process.execPath, nodeArgs('fleet-sim.ts', simArgs), { env: { ...process.env, LOG_LEVEL: 'warn' } }));
    }
    await Promise.all(sims.map((s) => s.waitFor('ready', o.rampMs + 300_000)));
    // Every agent connected: the sum of the simulators' latest status lines.
    const connected = new Map<JsonLineProcess, number>();
    for (const s of sims)
      s.child.stdout!.on('data', (d: Buffer) => {
        for (const m of d.toString().matchAll(/"connected":(\d+)/g)) connected.set(s, Number(m[1]));
      });
    const deadline = Date.now() + 300_000;
    while ([...connected.values()].reduce((a, b) => a + b, 0) < o.nodes) {
      if (Date.now() > deadline) throw new Error(`only ${[...connected.values()].reduce((a, b) => a + b, 0)} of ${o.nodes} agents connected after 5 min`);
      if (!hub.running) throw new Error(`the hub exited while the agents connected:\n${hub.output().slice(-2000)}`);
      await sleep(200);
    }
    const connectMs = performance.now() - t0;
    o.log(
      `  ${variant}: ${o.nodes} agents connected ${(connectMs / 1000).toFixed(0)} s after the first started; failures on, warming up ${o.warmupMs / 1000} s`,
    );
    for (const s of sims) s.send('fail');
    await sleep(o.warmupMs);

    const before = await fetchText(`${base}/metrics`, token);
    const windowStart = Date.now();
    const hubS = sampleProcs(() => [hub.pid], 5000);
    const brokerS = mq ? sampleProcs(() => [mq.pid], 5000) : undefined;
    const simS = sampleProcs(() => sims.map((s) => s.child.pid!), 5000);
    const poll = pollAtRate(`${base}/summary`, token, o.summaryPerSec);
    await sleep(o.windowMs);
    const windowEnd = Date.now();
    const summary = poll.stop();
    const [hubSeries, brokerSeries, simSeries] = await Promise.all([hubS.stop(), brokerS?.stop(), simS.stop()]);
    const after = await fetchText(`${base}/metrics`, token);

    const cycles = { before: histogramOf(before, 'homelab_supervisor_cycle_seconds'), after: histogramOf(after, 'homelab_supervisor_cycle_seconds') };
    const cycleCount = cycles.after.count - cycles.before.count;
    const events = counterOf(after, 'homelab_events_ingested_total') - counterOf(before, 'homelab_events_ingested_total');
    for (const s of sims) s.send('stop');
    await Promise.all(sims.map((s) => Promise.race([s.exited, sleep(30_000)])));
    if (!hub.running) problems.push(`the hub exited during the run:\n${hub.output().slice(-2000)}`);
    const { failures, byHub, bySelf } = await readFailures(dir);
    const inWindow = failures.filter((f) => f.at >= windowStart && f.at < windowEnd);
    const detection = await detectionMs(root, inWindow);
    const r: FleetVariantResult = {
      variant,
      connectMs,
      hub: figures(hubSeries),
      broker: brokerSeries ? figures(brokerSeries) : null,
      sims: figures(simSeries),
      eventsPerSec: (events / (windowEnd - windowStart)) * 1000,
      failures: inWindow.length,
      detection: { ...dist(detection.ms), unmatched: detection.unmatched },
      restoredByHub: byHub,
      selfHealed: bySelf,
      supervisor: {
        cycles: cycleCount,
        p50: histogramQuantile(cycles.before, cycles.after, 0.5) * 1000,
        p95: histogramQuantile(cycles.before, cycles.after, 0.95) * 1000,
        meanMs: ((cycles.after.sum - cycles.before.sum) / Math.max(1, cycleCount)) * 1000,
      },
      summary: { ...dist(summary.ms), errors: summary.errors, unanswered: summary.unanswered },
      problems,
      load: [load0, os.loadavg()[0]!],
    };
    o.log(
      `  ${variant}: hub CPU ${r.hub.cpuWindow.toFixed(0)} % of a core, RSS ${r.hub.rssMedian.toFixed(0)} MB (max ${r.hub.rssMax.toFixed(0)})` +
        (r.broker ? `; mosquitto CPU ${r.broker.cpuWindow.toFixed(0)} %, RSS ${r.broker.rssMedian.toFixed(0)} MB` : '') +
        `; ${r.eventsPerSec.toFixed(0)} events/s; detection p95 ${r.detection.p95.toFixed(0)} ms (${r.detection.n} of ${r.failures}); ` +
        `supervisor cycle p95 ${r.supervisor.p95.toFixed(0)} ms (${cycleCount} cycles); /summary p99 ${r.summary.p99.toFixed(1)} ms; simulators ${r.sims.cpuWindow.toFixed(0)} %`,
    );
    return r;
  } finally {
    for (const s of sims) s.kill();
    await hub.stop(30_000);
    await mq?.stop();
  }
}

export async function benchFleet(o: FleetOptions): Promise<FleetResult> {
  const tmp = await makeTempDir('hl-bench-fleet');
  try {
    const hostsDir = path.join(tmp.path, 'hosts');
    await writeFleetHosts(hostsDir, o.nodes, o.services);
    const t = performance.now();
    const credentials = await makeFleetCredentials(path.join(tmp.path, 'template'), o.nodes);
    const credentialsMs = performance.now() - t;
    o.log(
      `  ${o.nodes} × hosts/<node>/services.yaml (${o.services} services each) and ${o.nodes + 1} MQTT identities in ${(credentialsMs / 1000).toFixed(0)} s`,
    );
    const variants: FleetVariantResult[] = [];
    for (const v of o.variants) {
      const dir = path.join(tmp.path, v);
      await fs.mkdir(dir, { recursive: true });
      variants.push(await runVariant(v, dir, hostsDir, credentials, o));
      await fs.rm(dir, { recursive: true, force: true });
    }
    const { log: _log, ...options } = o;
    return { options, credentialsMs, variants };
  } finally {
    await tmp.cleanup();
  }
}
