/**
 * `npm run bench` — benchmarks (not timed tests); results in docs/benchmarks.md.
 *
 *   npm run bench                          ingest, replay, reconcile and summary (about 5 minutes)
 *   npm run bench -- all                   every benchmark below, in this order (about 45 minutes; the first startup run adds 4)
 *   npm run bench -- ingest                durable ingest vs Mosquitto + mosquitto_sub
 *   npm run bench -- replay                replay of 1,000,000 events vs raw line reading
 *   npm run bench -- reconcile             one supervisor cycle, 500 nodes × 40 services (test/bench/reconcile.ts)
 *   npm run bench -- summary               GET /summary p99 with 20,000 services, UI first-load bytes (test/bench/summary.ts)
 *   npm run bench -- ingest replay --write ... and put the results into docs/benchmarks.md
 *   npm run bench -- latency               agent: death → unhealthy at the hub → running again, vs the engine's own start and a 5 s poller, quiet and with one core busy
 *   npm run bench -- footprint             agent (`homelab agent`) RSS/CPU with 50 containers, idle next to a bare node, and over a soak with churn
 *   npm run bench -- startup               hub start on 10,000,000 events, with a checkpoint and replaying (test/bench/startup.ts)
 *   npm run bench -- fleet                 1,000 simulated agents via Mosquitto and via the embedded broker (about 10 minutes)
 *
 * latency: --kills N per phase (default 20), --poller-ms N (default 5000), --phases quiet,loaded (default both).
 * footprint: --containers N (default 50), --idle 60s, --soak 10m, --churn-ms N (default 2000).
 * startup: --start-events N (default 10000000), --reps N (default 5), --start-variants small,checkpoint,replay.
 * fleet: --nodes N (default 1000), --fleet-procs N (simulator processes, default 4), --ramp 45s,
 *   --warmup 45s, --fleet-window 2m, --fail-per-min F (default 0.01), --self-heal 5m,
 *   --summary-rps N (default 5), --fleet-variants mosquitto,embedded.
 *
 * Options: --reps N (alternating runs per side; default 7 for ingest, 5 for
 * replay), --events N (ingest, default 100000), --replay-events N (default
 * 1000000), --window N (ingest: unacknowledged messages per publisher
 * connection, default 1000), --variants a,b (ingest: mosquitto_sub,hub,hub-ext).
 *
 * Each comparison runs its sides alternately, several times, in the same run,
 * and reports medians and the ratio: on a shared 2-core machine absolute
 * numbers move from run to run, the ratio much less.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { durationMs } from '@homelab/contracts';
import { benchFootprint, renderFootprint } from './agent-footprint';
import { benchLatency, LATENCY_PHASES, latencyDir, renderLatency, type LatencyPhaseName } from './agent-latency';
import { benchFleet, FLEET_VARIANTS, type FleetVariant } from './fleet';
import { renderFleet } from './fleet-report';
import { benchIngest, INGEST_GOAL, INGEST_VARIANTS, type IngestVariant } from './ingest';
import { REPO_ROOT } from './procs';
import { benchReconcile, machineLine, renderReconcileMarkdown, writeReconcileDocs } from './reconcile';
import { benchReplay } from './replay';
import { benchSummary, renderSummaryMarkdown, writeSummaryDocs } from './summary';
import { benchStartup, START_VARIANTS, type StartVariant } from './startup';
import { renderStartup } from './startup-report';
import { renderIngest, renderReplay, writeDocs, type RunInfo } from './report';

const BENCHMARKS = ['ingest', 'replay', 'reconcile', 'latency', 'footprint', 'summary', 'startup', 'fleet'] as const;
/** What a bare `npm run bench` runs; the agent benchmarks need a private dockerd and are asked for by name. */
const DEFAULT_BENCHMARKS = ['ingest', 'replay', 'reconcile', 'summary'] as const;
type Bench = (typeof BENCHMARKS)[number];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    reps: { type: 'string' },
    events: { type: 'string', default: '100000' },
    'replay-events': { type: 'string', default: '1000000' },
    window: { type: 'string', default: '1000' },
    variants: { type: 'string', default: INGEST_VARIANTS.join(',') },
    write: { type: 'boolean', default: false },
    kills: { type: 'string', default: '20' },
    'poller-ms': { type: 'string', default: '5000' },
    phases: { type: 'string', default: LATENCY_PHASES.join(',') },
    containers: { type: 'string', default: '50' },
    idle: { type: 'string', default: '60s' },
    soak: { type: 'string', default: '10m' },
    'churn-ms': { type: 'string', default: '2000' },
    'start-events': { type: 'string', default: '10000000' },
    'start-variants': { type: 'string', default: START_VARIANTS.join(',') },
    nodes: { type: 'string', default: '1000' },
    'fleet-procs': { type: 'string', default: '4' },
    ramp: { type: 'string', default: '45s' },
    warmup: { type: 'string', default: '45s' },
    'fleet-window': { type: 'string', default: '2m' },
    'fail-per-min': { type: 'string', default: '0.01' },
    'self-heal': { type: 'string', default: '5m' },
    'summary-rps': { type: 'string', default: '5' },
    'fleet-variants': { type: 'string', default: FLEET_VARIANTS.join(',') },
  },
});

const which = (positionals.length === 0 ? [...DEFAULT_BENCHMARKS] : positionals.includes('all') ? [...BENCHMARKS] : positionals) as Bench[];
for (const w of which) if (!BENCHMARKS.includes(w)) throw new Error(`unknown benchmark "${w}" (${BENCHMARKS.join(' | ')})`);
const variants = values.variants.split(',') as IngestVariant[];
for (const v of variants) if (!INGEST_VARIANTS.includes(v)) throw new Error(`unknown ingest variant "${v}" (${INGEST_VARIANTS.join(', ')})`);

const log = (s: string) => console.log(s);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const machine = `${machineLine()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM`;
const docsFile = path.join(REPO_ROOT, 'docs/benchmarks.md');
const artifacts = path.join(REPO_ROOT, 'test-artifacts');
const sections: string[] = [];

/** Runs one benchmark, timing it and noting the load average around it. */
async function timed<T>(fn: () => Promise<T>): Promise<[T, RunInfo]> {
  const date = new Date();
  const load0 = os.loadavg()[0]!;
  const t = performance.now();
  const result = await fn();
  return [result, { date, machine, seconds: (performance.now() - t) / 1000, load: [load0, os.loadavg()[0]!] }];
}

async function publish(name: Bench, md: string): Promise<void> {
  sections.push(`## ${name}\n\n${md}`);
  if (values.write) {
    if (name === 'reconcile') await writeReconcileDocs(docsFile, md);
    else if (name === 'summary') await writeSummaryDocs(docsFile, md);
    else await writeDocs(docsFile, name, md);
    log(`  written to docs/benchmarks.md (${name})`);
  }
}

const started = performance.now();

if (which.includes('ingest')) {
  const reps = Number(values.reps ?? 7);
  log(`ingest: ${fmt(Number(values.events))} events, ${reps} alternating runs of ${variants.join(', ')}`);
  const [r, run] = await timed(() =>
    benchIngest({ events: Number(values.events), reps, window: Number(values.window), nodes: ['piha', 'chelsty-infra', 'chelsty-ha'], variants, log }),
  );
  for (const [v, m] of Object.entries(r.median)) {
    log(
      `  median ${v.padEnd(13)} ${(m.ms / 1000).toFixed(2)} s  ${fmt(m.rate)} events/s  CPU per event: ${m.serverCpuUsPerEvent.toFixed(1)} µs receiving` +
        `${m.brokerCpuUsPerEvent === undefined ? '' : ` (mosquitto ${m.brokerCpuUsPerEvent.toFixed(1)} µs)`}, ${m.publisherCpuUsPerEvent.toFixed(1)} µs publishing`,
    );
  }
  for (const [v, ratio] of Object.entries(r.ratio)) log(`  ratio ${v} / mosquitto_sub = ${ratio.toFixed(2)}  (goal ≥ ${INGEST_GOAL.toFixed(1)})`);
  await publish('ingest', renderIngest(r, run));
}

if (which.includes('replay')) {
  const reps = Number(values.reps ?? 5);
  const n = Number(values['replay-events']);
  log(`replay: ${fmt(n)} events, ${reps} alternating passes per mode, each in a fresh process pinned to one core`);
  const [r, run] = await timed(() => benchReplay({ events: n, reps, log }));
  for (const [m, v] of Object.entries(r.median))
    log(
      `  median ${m.padEnd(7)} ${(v.ms / 1000).toFixed(2)} s  ${fmt(v.rate)} events/s (${fmt(v.cpuRate)} by CPU time)  peak RSS ${v.peakRssMb.toFixed(0)} MB`,
    );
  log(
    `  replay ${fmt(r.median.replay.rate)} events/s (goal ≥ 500,000): ${r.ratio.replayVsParse.toFixed(2)} of JSON.parse per line, ${r.ratio.replayVsCount.toFixed(2)} of raw line reading`,
  );
  await publish('replay', renderReplay(r, run));
}

if (which.includes('reconcile')) {
  log('reconcile: 500 nodes × 40 services');
  const r = await benchReconcile({ nodes: 500, services: 40, runs: 40, log });
  log(`  reconcile() median ${r.reconcile.medianMs.toFixed(1)} ms, p95 ${r.reconcile.p95Ms.toFixed(1)} ms (goal ≤ ${r.goalMs} ms)`);
  await publish('reconcile', renderReconcileMarkdown(r, machine, new Date()));
}

if (which.includes('summary')) {
  log('summary: GET /summary with 500 nodes × 40 services, and the UI first load (issue 7)');
  const r = await benchSummary({ log });
  log(`  /summary p99 ${r.steady.p99.toFixed(2)} ms (goal ≤ ${r.goalP99Ms} ms); UI first load ${(r.firstLoadTotal / 1024).toFixed(1)} KiB (goal ≤ 200 KB)`);
  await publish('summary', renderSummaryMarkdown(r, machine, new Date()));
}

if (which.includes('latency')) {
  const kills = Number(values.kills);
  const phases = values.phases.split(',') as LatencyPhaseName[];
  for (const p of phases) if (!LATENCY_PHASES.includes(p)) throw new Error(`unknown latency phase "${p}" (${LATENCY_PHASES.join(', ')})`);
  log(`latency: ${kills} kills per phase (${phases.join(', ')}), agent + hub vs the engine's floor and a poller every ${values['poller-ms']} ms`);
  const [r, run] = await timed(() => benchLatency({ kills, pollerMs: Number(values['poller-ms']), phases, dir: latencyDir(artifacts), log }));
  const phaseArg = values.phases === LATENCY_PHASES.join(',') ? '' : ` --phases ${values.phases}`;
  const md = renderLatency(r, { ...run, command: `npm run bench -- latency --kills ${kills}${phaseArg}` });
  log(md);
  await publish('latency', md);
}

if (which.includes('footprint')) {
  const o = { containers: Number(values.containers), idleMs: durationMs(values.idle), soakMs: durationMs(values.soak), churnMs: Number(values['churn-ms']) };
  log(`footprint: ${o.containers} containers, idle ${values.idle}, soak ${values.soak} with a kill every ${o.churnMs} ms`);
  const [r, run] = await timed(() => benchFootprint({ ...o, dir: path.join(artifacts, 'bench-agent-footprint'), log }));
  const md = renderFootprint(r, { ...run, command: `npm run bench -- footprint --containers ${o.containers} --idle ${values.idle} --soak ${values.soak}` });
  log(md);
  await publish('footprint', md);
}

if (which.includes('startup')) {
  const reps = Number(values.reps ?? 5);
  const events = Number(values['start-events']);
  const startVariants = values['start-variants'].split(',') as StartVariant[];
  for (const v of startVariants) if (!START_VARIANTS.includes(v)) throw new Error(`unknown start variant "${v}" (${START_VARIANTS.join(', ')})`);
  log(`startup: homelab hub → GET /summary 200 on ${fmt(events)} events, ${reps} alternating starts of ${startVariants.join(', ')}`);
  const [r, run] = await timed(() => benchStartup({ events, smallEvents: 10_000, nodes: 30, services: 40, days: 10, reps, variants: startVariants, log }));
  for (const [v, m] of Object.entries(r.median))
    log(`  median ${v.padEnd(10)} ${(m.ms / 1000).toFixed(2)} s (CPU ${(m.cpuMs / 1000).toFixed(2)} s)  peak RSS ${m.peakRssMb.toFixed(0)} MB`);
  if (r.replayRate !== null) log(`  replay at start: ${fmt(r.replayRate)} events/s (${fmt(r.replayCpuRate ?? 0)} by CPU time)`);
  const command = `npm run bench -- startup${events === 10_000_000 ? '' : ` --start-events ${events}`}${values.reps ? ` --reps ${reps}` : ''}`;
  await publish('startup', renderStartup(r, { ...run, command }));
}

if (which.includes('fleet')) {
  const fleetVariants = values['fleet-variants'].split(',') as FleetVariant[];
  for (const v of fleetVariants) if (!FLEET_VARIANTS.includes(v)) throw new Error(`unknown fleet variant "${v}" (${FLEET_VARIANTS.join(', ')})`);
  const o = {
    nodes: Number(values.nodes),
    services: 20,
    procs: Number(values['fleet-procs']),
    rampMs: durationMs(values.ramp),
    warmupMs: durationMs(values.warmup),
    windowMs: durationMs(values['fleet-window']),
    failPerMin: Number(values['fail-per-min']),
    selfHealMs: durationMs(values['self-heal']),
    summaryPerSec: Number(values['summary-rps']),
    variants: fleetVariants,
  };
  log(`fleet: ${o.nodes} agents × ${o.services} services in ${o.procs} processes, via ${fleetVariants.join(' and ')}; window ${values['fleet-window']}`);
  const [r, run] = await timed(() => benchFleet({ ...o, log }));
  const args = process.argv.slice(2).filter((a) => a !== '--write');
  const md = renderFleet(r, { ...run, command: `npm run bench -- ${args.join(' ')}` });
  log(md);
  await publish('fleet', md);
}

log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
await fs.mkdir(artifacts, { recursive: true });
await fs.writeFile(path.join(artifacts, 'benchmarks.md'), `${sections.join('\n')}\n`);
if (!values.write) log('results: test-artifacts/benchmarks.md (--write puts them into docs/benchmarks.md)');
