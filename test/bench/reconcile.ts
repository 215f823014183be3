/**
 * Supervisor cycle benchmark (docs/benchmarks.md, "Supervisor: one reconcile cycle"): one reconcile over 500 nodes ×
 * 40 services must take ≤ 50 ms.
 *
 *   npx tsx test/bench/reconcile.ts            print the results
 *   npx tsx test/bench/reconcile.ts --write    also put them into docs/benchmarks.md (own markers)
 *   options: --nodes N --services N --runs N
 *
 * Measures
 *  - `reconcile()` itself (pure: desired, world, actions, history in memory), on
 *    a fleet with drifts, policies, maintenance windows, live and ended actions
 *    and an archived restart history, and on a converged fleet;
 *  - the whole `Supervisor.runOnce()` on real files (500 services.yaml files,
 *    the action store on the local disk), split into its steps: loading desired
 *    state, listing actions and archives, reconcile, applying the plan.
 * Exported as `benchReconcile` so `test/bench/run.ts` can run it with the others.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ManualClock, type Action, type HostServicesFile, type World, type WorldNode, type WorldService } from '@homelab/contracts';
import { FsActionStore } from '@homelab/action-store';
import { createLogger } from '@homelab/logging';
import { agentRevision, DesiredFileCache, loadDesired } from '@homelab/hub/desired';
import { MAX_RESTART_WINDOW_MS, reconcile, Supervisor, type ReconcileInput } from '@homelab/hub/supervisor';
import { prng } from '@homelab/testkit';

export interface ReconcileBenchOptions {
  nodes: number;
  services: number;
  runs: number;
  log?: (s: string) => void;
}

export interface Stats {
  medianMs: number;
  p95Ms: number;
  maxMs: number;
}

export interface ReconcileBenchSummary {
  nodes: number;
  services: number;
  runs: number;
  fleet: { unhealthy: number; missing: number; diskHigh: number; actions: number; history: number; policyOverrides: number; maintenance: number };
  plan: { create: number; cancel: number; approve: number; findings: number };
  reconcile: Stats;
  /** CPU time (user + system, this process) per reconcile: less sensitive to other load on the machine than wall time. */
  reconcileCpu: Stats;
  reconcileConverged: Stats;
  /** 1-minute load average before and after the timed runs (2 cores: above ~1 means other work competed). */
  loadAverage: [number, number];
  runOnce: { first: number; steady: Stats; steps: { loadDesiredCold: Stats; loadDesired: Stats; listActions: Stats; reconcile: Stats } };
  goalMs: number;
}

const NOW = new Date('2026-11-26T15:00:00.000Z');
const REASONS = ['containers_not_running', 'containers_not_running', 'mqtt_unreachable', 'container_unhealthy', 'restart_loop', 'probe_failed'];

const iso = (msAgo: number) => new Date(NOW.getTime() - msAgo).toISOString();
const nodeName = (i: number) => `node-${String(i).padStart(3, '0')}`;
const serviceName = (j: number) => `svc-${String(j).padStart(2, '0')}`;

interface Fleet {
  desired: Record<string, HostServicesFile>;
  yaml: Record<string, string>;
  world: World;
  healthyWorld: World;
  actions: Action[];
  history: Action[];
  counts: ReconcileBenchSummary['fleet'];
}

/**
 * A realistic large fleet: ~2% of services unhealthy (mixed reasons), ~0.5%
 * missing, 1% of nodes with disk pressure, ~5% of services with a policy
 * override, 1% in maintenance, 2% of nodes with a node-wide policy; a pending,
 * approved or ended action for a third of the drifts and a few restarts each
 * in the archived history.
 */
export function buildFleet(nodes: number, services: number): Fleet {
  const rnd = prng(4);
  const desired: Record<string, HostServicesFile> = {};
  const yaml: Record<string, string> = {};
  const world: World = { nodes: {}, services: {} };
  const healthyWorld: World = { nodes: {}, services: {} };
  const actions: Action[] = [];
  const history: Action[] = [];
  const counts = { unhealthy: 0, missing: 0, diskHigh: 0, actions: 0, history: 0, policyOverrides: 0, maintenance: 0 };
  for (let i = 0; i < nodes; i += 1) {
    const node = nodeName(i);
    const host: HostServicesFile = { node, services: {} };
    const lines = [`node: ${node}`];
    if (rnd() < 0.02) {
      host.policy = { autoApprove: 'low' };
      lines.push('policy: {autoApprove: low}');
    }
    lines.push('services:');
    const wn: WorldNode = {
      node,
      online: true,
      session: 1,
      statusSince: iso(86_400_000),
      lastSeen: iso(5000),
      lastSeq: 100_000,
      dockerReachable: true,
      disks: {},
    };
    if (rnd() < 0.01) {
      wn.disks['/'] = { mount: '/', level: 'high', usedPercent: 93, since: iso(600_000) };
      counts.diskHigh += 1;
    }
    world.nodes[node] = wn;
    healthyWorld.nodes[node] = { ...wn, disks: {} };
    for (let j = 0; j < services; j += 1) {
      const service = serviceName(j);
      const spec: HostServicesFile['services'][string] = { monitor: true, containers: [service] };
      lines.push(`  ${service}:`, `    containers: [${service}]`);
      const r = rnd();
      if (r < 0.05) {
        spec.policy = { autoApprove: rnd() < 0.5 ? 'low' : 'none', restartBudget: { max: 2, window: '10m', backoff: '30s' } };
        lines.push("    policy: {autoApprove: low, restartBudget: {max: 2, window: 10m, backoff: '30s'}}");
        counts.policyOverrides += 1;
      } else if (r < 0.06) {
        spec.maintenance = { until: iso(-3_600_000), reason: 'bench' };
        lines.push(`    maintenance: {until: '${spec.maintenance.until}', reason: bench}`);
        counts.maintenance += 1;
      }
      host.services[service] = spec;
      const since = iso(Math.floor(rnd() * 3_600_000));
      const ok: WorldService = { node, service, status: 'healthy', since, lastSeen: iso(5000), lastEventId: `${node}-${j}`, lastSeq: j, problemEventIds: [] };
      healthyWorld.services[`${node}/${service}`] = ok;
      const s = rnd();
      if (s < 0.005) {
        counts.missing += 1;
        continue;
      }
      if (s < 0.025) {
        const reason = REASONS[Math.floor(rnd() * REASONS.length)]!;
        world.services[`${node}/${service}`] = {
          ...ok,
          status: 'unhealthy',
          reason,
          detail: `${service}: exited (1)`,
          problemEventIds: [`${node}-a${j}`, `${node}-b${j}`],
        };
        counts.unhealthy += 1;
        const restartable = reason === 'containers_not_running' || reason === 'mqtt_unreachable';
        const id = `${restartable ? 'container-restart' : 'redeploy'}-${node}-${service}`;
        const drift = { type: 'unhealthy_service' as const, reason, eventIds: [`${node}-a${j}`], firstSeen: since };
        const a = rnd();
        const mk = (state: Action['state'], endedAgo: number): Action => ({
          id,
          type: restartable ? 'container_restart' : 'redeploy',
          risk: restartable ? 'low' : 'guarded',
          node,
          service,
          state,
          drift,
          summary: 'bench',
          createdAt: iso(endedAgo + 60_000),
          updatedAt: iso(endedAgo),
          audit: [{ at: iso(endedAgo + 60_000), state: 'pending', by: 'supervisor', via: 'supervisor' }],
        });
        if (a < 0.33) actions.push(mk('pending', 0));
        else if (a < 0.4) actions.push(mk('approved', 0));
        else if (a < 0.6) actions.push(mk('completed', 120_000));
        if (restartable)
          for (let k = 1; k <= Math.floor(rnd() * 4); k += 1)
            history.push({ ...mk('completed', k * 240_000), drift: { ...drift, firstSeen: iso(k * 300_000) } });
      } else {
        world.services[`${node}/${service}`] = ok;
        if (rnd() < 0.002) {
          // Pending restarts whose service recovered: cancelled this cycle.
          const id = `container-restart-${node}-${service}`;
          actions.push({
            id,
            type: 'container_restart',
            risk: 'low',
            node,
            service,
            state: 'pending',
            drift: { type: 'unhealthy_service', reason: 'containers_not_running', eventIds: [], firstSeen: iso(900_000) },
            summary: 'bench',
            createdAt: iso(800_000),
            updatedAt: iso(800_000),
            audit: [{ at: iso(800_000), state: 'pending', by: 'supervisor', via: 'supervisor' }],
          });
        }
      }
    }
    desired[node] = host;
    // Every agent has sent its complete scan of this desired state (docs/supervisor.md, "First contact").
    wn.inventory = { session: 1, desiredRevision: agentRevision(host), sessionFromSeq: 0 };
    healthyWorld.nodes[node]!.inventory = wn.inventory;
    yaml[node] = `${lines.join('\n')}\n`;
  }
  counts.actions = actions.length;
  counts.history = history.length;
  return { desired, yaml, world, healthyWorld, actions, history, counts };
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { medianMs: at(0.5), p95Ms: at(0.95), maxMs: s[s.length - 1]! };
}

async function time<T>(fn: () => T | Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const out = await fn();
  return [performance.now() - t0, out];
}

export async function benchReconcile(opts: ReconcileBenchOptions): Promise<ReconcileBenchSummary> {
  const log = opts.log ?? (() => undefined);
  const fleet = buildFleet(opts.nodes, opts.services);
  const input: ReconcileInput = {
    desired: fleet.desired,
    world: fleet.world,
    actions: fleet.actions,
    history: fleet.history,
    now: NOW,
    aliases: {},
    policy: { autoApprove: 'none' },
  };
  const converged: ReconcileInput = { ...input, world: fleet.healthyWorld, actions: [], history: [] };
  log(
    `reconcile: ${opts.nodes} nodes × ${opts.services} services; ${fleet.counts.unhealthy} unhealthy, ${fleet.counts.missing} missing, ` +
      `${fleet.counts.actions} actions, ${fleet.counts.history} archived restarts`,
  );

  const plan = reconcile(input);
  for (let i = 0; i < 5; i += 1) (reconcile(input), reconcile(converged));
  const pure: number[] = [];
  const cpu: number[] = [];
  const calm: number[] = [];
  const load0 = os.loadavg()[0]!;
  for (let i = 0; i < opts.runs; i += 1) {
    const c0 = process.cpuUsage();
    pure.push((await time(() => reconcile(input)))[0]);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    calm.push((await time(() => reconcile(converged)))[0]);
  }
  const load1 = os.loadavg()[0]!;

  // The whole cycle on real files.
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hl-bench-reconcile-'));
  try {
    const hostsDir = path.join(dir, 'hosts');
    const anHourAgo = new Date(Date.now() - 3_600_000);
    for (const [node, text] of Object.entries(fleet.yaml)) {
      await fs.mkdir(path.join(hostsDir, node), { recursive: true });
      await fs.writeFile(path.join(hostsDir, node, 'services.yaml'), text);
      // Edited long ago, as in a running fleet (files younger than 2 s are never cached).
      await fs.utimes(path.join(hostsDir, node, 'services.yaml'), anHourAgo, anHourAgo);
    }
    const clock = new ManualClock(NOW.toISOString());
    const silent = createLogger('bench', { level: 'silent' });
    const store = new FsActionStore({ root: dir, clock });
    await store.init();
    const supervisor = new Supervisor({ hostsDir, store, world: () => fleet.world, clock, log: silent, aliases: {} });
    const [first] = await time(() => supervisor.runOnce());
    const cycles: number[] = [];
    const loads: number[] = [];
    const coldLoads: number[] = [];
    const cache = new DesiredFileCache();
    await loadDesired(hostsDir, {}, silent, { cache });
    const lists: number[] = [];
    const recs: number[] = [];
    const runs = Math.max(5, Math.floor(opts.runs / 4));
    for (let i = 0; i < runs; i += 1) {
      clock.advance(5000);
      cycles.push((await time(() => supervisor.runOnce()))[0]);
      // The same steps one by one, for the breakdown.
      coldLoads.push((await time(() => loadDesired(hostsDir, {}, silent)))[0]);
      const [tl, loaded] = await time(() => loadDesired(hostsDir, {}, silent, { cache }));
      const [ta, lists2] = await time(
        async () =>
          [
            await store.list(),
            await store.archived({ since: new Date(clock.now().getTime() - MAX_RESTART_WINDOW_MS), states: ['completed', 'failed'] }),
          ] as const,
      );
      const [tr] = await time(() =>
        reconcile({ desired: loaded.desired, world: fleet.world, actions: lists2[0], history: lists2[1], now: clock.now(), aliases: {} }),
      );
      loads.push(tl);
      lists.push(ta);
      recs.push(tr);
    }
    const summary: ReconcileBenchSummary = {
      nodes: opts.nodes,
      services: opts.services,
      runs: opts.runs,
      fleet: fleet.counts,
      plan: { create: plan.create.length, cancel: plan.cancel.length, approve: plan.approve.length, findings: plan.findings.length },
      reconcile: stats(pure),
      reconcileCpu: stats(cpu),
      reconcileConverged: stats(calm),
      loadAverage: [load0, load1],
      runOnce: {
        first,
        steady: stats(cycles),
        steps: { loadDesiredCold: stats(coldLoads), loadDesired: stats(loads), listActions: stats(lists), reconcile: stats(recs) },
      },
      goalMs: 50,
    };
    return summary;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

const f1 = (n: number) => n.toFixed(1);

export function renderReconcileMarkdown(r: ReconcileBenchSummary, machine: string, date: Date): string {
  const row = (what: string, s: Stats, goal = '') => `| ${what} | ${f1(s.medianMs)} ms | ${f1(s.p95Ms)} ms | ${f1(s.maxMs)} ms | ${goal} |`;
  const verdict = r.reconcile.medianMs <= r.goalMs ? (r.reconcile.p95Ms <= r.goalMs ? 'met (median and p95)' : 'met (median; p95 above)') : 'NOT met';
  return [
    `Run of ${date.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine}.`,
    '',
    `Fleet: ${r.nodes} nodes × ${r.services} services (${(r.nodes * r.services).toLocaleString('en-US')}), ${r.fleet.unhealthy} unhealthy, ` +
      `${r.fleet.missing} missing, ${r.fleet.diskHigh} nodes with disk pressure, ${r.fleet.policyOverrides} services with a policy override, ` +
      `${r.fleet.maintenance} in maintenance, ${r.fleet.actions} current actions and ${r.fleet.history} archived restarts. ` +
      `The plan of one cycle: ${r.plan.create} to create, ${r.plan.cancel} to cancel, ${r.plan.approve} to approve, ${r.plan.findings} findings. ` +
      `${r.runs} timed runs after 5 warm-up runs; 1-minute load average ${r.loadAverage[0].toFixed(1)} before and ${r.loadAverage[1].toFixed(1)} after.`,
    '',
    '| what | median | p95 | max | goal |',
    '|---|---:|---:|---:|---|',
    row('`reconcile()` (pure, the fleet above)', r.reconcile, `≤ ${r.goalMs} ms: **${verdict}**`),
    row('`reconcile()`, CPU time (user + system)', r.reconcileCpu),
    row('`reconcile()` on a converged fleet', r.reconcileConverged),
    row('`Supervisor.runOnce()`, steady state (nothing to write)', r.runOnce.steady, '(informative)'),
    row(`— loading ${r.nodes} unchanged \`services.yaml\` (one stat each, parse cache)`, r.runOnce.steps.loadDesired),
    row(`— loading ${r.nodes} \`services.yaml\` without the cache (read, YAML, zod)`, r.runOnce.steps.loadDesiredCold),
    row('— listing actions + archived restarts (store)', r.runOnce.steps.listActions),
    row('— `reconcile()` within the cycle', r.runOnce.steps.reconcile),
    '',
    `The first \`runOnce()\` (writes every new pending action, fsync each) took ${f1(r.runOnce.first)} ms. ` +
      'The supervisor runs every 5 s by default and when the observer reports a change. Outside `reconcile()` the cycle ' +
      'is file I/O: one stat per unchanged `services.yaml` (changed files are read, parsed and validated again) and the ' +
      'action store reading every current action file plus the archive names of the last 24 h.',
    '',
  ].join('\n');
}

export const RECONCILE_BEGIN = '<!-- bench:reconcile:begin (written by `npx tsx test/bench/reconcile.ts --write`) -->';
export const RECONCILE_END = '<!-- bench:reconcile:end -->';

/** Replaces this benchmark's block in docs/benchmarks.md (or appends a section), leaving everything else as it is. */
export async function writeReconcileDocs(file: string, md: string): Promise<void> {
  const text = await fs.readFile(file, 'utf8').catch(() => '# Benchmarks\n');
  const block = `${RECONCILE_BEGIN}\n${md}${RECONCILE_END}`;
  const start = text.indexOf(RECONCILE_BEGIN);
  const end = text.indexOf(RECONCILE_END);
  const next =
    start >= 0 && end > start
      ? text.slice(0, start) + block + text.slice(end + RECONCILE_END.length)
      : `${text.trimEnd()}\n\n## Supervisor: one reconcile cycle (issue 4)\n\n${block}\n`;
  await fs.writeFile(file, next);
}

export function machineLine(): string {
  return `${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}, ${os.platform()} ${os.release()}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '500' },
      services: { type: 'string', default: '40' },
      runs: { type: 'string', default: '40' },
      write: { type: 'boolean', default: false },
    },
  });
  const r = await benchReconcile({ nodes: Number(values.nodes), services: Number(values.services), runs: Number(values.runs), log: console.log });
  const md = renderReconcileMarkdown(r, machineLine(), new Date());
  console.log(md);
  if (values.write) {
    const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/benchmarks.md');
    await writeReconcileDocs(file, md);
    console.log(`written to ${file}`);
  }
}
