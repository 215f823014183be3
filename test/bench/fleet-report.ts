import type { FleetResult, FleetVariantResult, ProcFigures } from './fleet';
import type { RunInfo } from './report';

const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '–');
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const sec = (ms: number) => `${f0(ms / 1000)} s`;

const cpu = (p: ProcFigures | null) => (p ? `${f0(p.cpuWindow)} % (median ${f0(p.cpuMedian)}, max ${f0(p.cpuMax)})` : 'inside the hub');
const rss = (p: ProcFigures | null) =>
  p ? `${f0(p.rssMedian)} MB (max ${f0(p.rssMax)}, trend ${p.rssSlopePerMin >= 0 ? '+' : ''}${f1(p.rssSlopePerMin)} MB/min)` : '—';

/** The fleet block of docs/benchmarks.md: both variants side by side. */
export function renderFleet(r: FleetResult, run: RunInfo & { command: string }): string {
  const o = r.options;
  const vs = r.variants;
  const head = `| | ${vs.map((v) => (v.variant === 'mosquitto' ? '`--mqtt-url` on Mosquitto' : 'embedded broker')).join(' | ')} |`;
  const row = (label: string, cell: (v: FleetVariantResult) => string) => `| ${label} | ${vs.map(cell).join(' | ')} |`;
  const out = [
    `Run of ${run.date.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${run.machine}; this benchmark took ${f0(run.seconds)} s; ` +
      `1-minute load average ${f1(run.load[0])} before and ${f1(run.load[1])} after. Command: \`${run.command}\`.`,
    '',
    `${fmt(o.nodes)} agents × ${o.services} services = ${fmt(o.nodes * o.services)} services, in ${o.procs} simulator processes; ` +
      `agents started one after another over ${sec(o.rampMs)}, then ${sec(o.warmupMs)} of warm-up with failures on, then a ${sec(o.windowMs)} measuring window. ` +
      `Failures: ${o.failPerMin * 100} % of the services per minute (≈ ${fmt(o.nodes * o.services * o.failPerMin)}/min), repaired by the hub's auto-approved restart ` +
      `or by themselves after ${sec(o.selfHealMs)}. ${fmt(o.nodes + 1)} MQTT identities made in ${sec(r.credentialsMs)} (scrypt + PBKDF2 each). ` +
      `CPU is % of one core over the window (median and max of 5 s samples in brackets); RSS median (max, least-squares trend over the window).`,
    '',
    head,
    `|---|${vs.map(() => '---:').join('|')}|`,
    row('all agents connected after', (v) => sec(v.connectMs)),
    row('events ingested', (v) => `${fmt(v.eventsPerSec)}/s`),
    row('**hub CPU**', (v) => cpu(v.hub)),
    row('**hub RSS**', (v) => rss(v.hub)),
    row('Mosquitto CPU', (v) => cpu(v.broker)),
    row('Mosquitto RSS', (v) => rss(v.broker)),
    row('simulators CPU (all processes; shared the machine)', (v) => cpu(v.sims)),
    row('simulators RSS', (v) => rss(v.sims)),
    row('failures in the window', (v) => `${v.failures} (${v.detection.unmatched} not seen at the hub)`),
    row(
      '**detection at the hub** p50 / p95 / max (failure → `rx` of `service_unhealthy`)',
      (v) => `${f0(v.detection.p50)} / **${f0(v.detection.p95)}** / ${f0(v.detection.max)} ms`,
    ),
    row('repaired by the hub / by themselves (whole run)', (v) => `${v.restoredByHub} / ${v.selfHealed}`),
    row(
      '**supervisor cycle** p50 / p95 (`homelab_supervisor_cycle_seconds`; mean)',
      (v) => `${f0(v.supervisor.p50)} / **${f0(v.supervisor.p95)}** ms (${f0(v.supervisor.meanMs)}); ${v.supervisor.cycles} cycles`,
    ),
    row(
      `**\`GET /summary\`** p50 / p99 / max at ${o.summaryPerSec} req/s (viewer token)`,
      (v) =>
        `${f1(v.summary.p50)} / **${f1(v.summary.p99)}** / ${f1(v.summary.max)} ms (${v.summary.n} requests, ${v.summary.errors} errors, ${v.summary.unanswered} unanswered at the end)`,
    ),
    row('load average before → after', (v) => `${f1(v.load[0])} → ${f1(v.load[1])}`),
    '',
  ];
  const problems = vs.flatMap((v) => v.problems.map((p) => `- ${v.variant}: ${p.split('\n')[0]}`));
  if (problems.length) out.push('Problems during the run:', '', ...problems, '');
  return out.join('\n');
}
