import { STAGE_LABELS, type Stages } from './agent-latency-parts';
import type { LatencyPhase, LatencySummary } from './agent-latency';
import { percentile } from './agent-stack';

/** The markdown of `npm run bench -- latency` (docs/benchmarks.md, between the latency markers). */

const f = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '–');
const cells = (xs: number[]) => `${f(percentile(xs, 50))} | ${f(percentile(xs, 95))} | ${f(Math.max(...xs))}`;
const ratio = (a: number[], b: number[], p: number) => percentile(a, p) / percentile(b, p);
const phaseTitle = (p: LatencyPhase) => (p.load ? 'other core busy' : 'quiet');

/** Restore p50 ÷ floor p50 and p95 ÷ p95 (goal ≤ 1.5 each). */
export function restoreRatios(p: LatencyPhase): { p50: number; p95: number } {
  return { p50: ratio(p.ours.restoreMs, p.floorMs, 50), p95: ratio(p.ours.restoreMs, p.floorMs, 95) };
}

export function renderLatency(s: LatencySummary, meta: { date: Date; machine: string; seconds: number; load: [number, number]; command: string }): string {
  const ps = s.phases;
  const head = ps.map((p) => `${phaseTitle(p)}: p50 | p95 | max`).join(' | ');
  const row = (label: string, pick: (p: LatencyPhase) => number[]) => `| ${label} | ${ps.map((p) => cells(pick(p))).join(' | ')} |`;
  const sep = `| --- | ${ps.map(() => '---: | ---: | ---:').join(' | ')} |`;
  const stageRow = (k: keyof Stages) => row(`… ${STAGE_LABELS[k]}`, (p) => p.stages.map((x) => x[k]));
  return [
    `Measured ${meta.date.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${meta.machine}; ${meta.seconds.toFixed(0)} s. Reproduce: \`${meta.command}\`.`,
    '',
    ...ps.map(
      (p) =>
        `- ${phaseTitle(p)}: ${p.kills} kills in ${p.seconds.toFixed(0)} s, 1-minute load ${p.loadavg[0].toFixed(2)} → ${p.loadavg[1].toFixed(2)}${p.load ? `, loaded with ${p.load}` : ''}.`,
    ),
    '',
    `| ms | ${head} |`,
    sep,
    row("**agent**: `service_unhealthy` in the hub's log (fsynced, seen by a 5 ms poll), from the engine's `die`", (p) => p.ours.detectMs),
    row('agent: … received by the hub (`rx`)', (p) => p.oursRxMs),
    row("**agent + hub**: running again (auto-approved `container_restart`), from `die` to the engine's `start`", (p) => p.ours.restoreMs),
    row("**engine's floor**: `docker start` of the same container, stopped the same way, from the request to the engine's `start`", (p) => p.floorMs),
    row('… the same start call, to its answer', (p) => p.floorCallMs),
    row(`poller every ${s.pollerMs / 1000} s (docker-autoheal's design): noticed`, (p) => p.poller.detectMs),
    row('poller: running again (its own `docker restart`)', (p) => p.poller.restoreMs),
    '',
    ...ps.map((p) => {
      const r = restoreRatios(p);
      return `Restore ÷ floor, ${phaseTitle(p)}: **${r.p50.toFixed(2)}** at p50, **${r.p95.toFixed(2)}** at p95 (goal ≤ 1.5).`;
    }),
    '',
    'Where the restore goes, stage by stage (each from the previous timestamp; the agent, hub and engine share one clock here):',
    '',
    `| ms | ${head} |`,
    sep,
    ...(Object.keys(STAGE_LABELS) as (keyof Stages)[]).map(stageRow),
    '',
    "Goals: restore ≤ 1.5× the floor at p50 and p95; detection p95 ≤ 50 ms with the other core busy; p95 detection ≤ 200 ms and p95 restore ≤ 2 s on a quiet machine (the containers are `sleep`, so the app's own start is ~0).",
  ].join('\n');
}
