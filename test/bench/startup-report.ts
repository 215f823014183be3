import type { RunInfo } from './report';
import type { StartRun, StartupSummary, StartVariant } from './startup';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const sec = (ms: number) => (ms / 1000).toFixed(2);

const WHAT: Record<StartVariant, string> = {
  small: 'same fleet, 10,000 events, with checkpoint (baseline)',
  checkpoint: 'with checkpoint',
  replay: 'checkpoint, fold state and world files deleted: replay',
};

function spread(rs: StartRun[], f: (r: StartRun) => number, unit: (n: number) => string): string {
  const xs = rs.map(f).sort((a, b) => a - b);
  return `${unit(xs[0]!)}–${unit(xs.at(-1)!)}`;
}

/** The median run of a variant (the timeline and log shown are that run's). */
function medianRun(s: StartupSummary, v: StartVariant): StartRun | undefined {
  const rs = s.runs.filter((r) => r.variant === v).sort((a, b) => a.ms - b.ms);
  return rs[rs.length >> 1];
}

export function renderStartup(s: StartupSummary, run: RunInfo & { command: string }): string {
  const load = `1-minute load average ${run.load[0].toFixed(1)} before and ${run.load[1].toFixed(1)} after (2 cores)`;
  const out = [
    `Run of ${run.date.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${run.machine}; \`${run.command}\` took ${run.seconds.toFixed(0)} s; ${load}.`,
    '',
    `Data root: ${fmt(s.big.events)} events (${(s.big.logBytes / 2 ** 30).toFixed(2)} GiB in ${s.big.files} files: ${s.big.nodes} nodes × ${s.big.services} services over ${s.big.days} days, ` +
      `plus the hub’s status stream; \`hosts/\` lists every service), page-cached. Written once in ${s.big.generateSeconds.toFixed(0)} s, ` +
      `then \`homelab replay\` and one hub start in ${s.big.prepareSeconds.toFixed(0)} s, and kept for later runs. ${s.reps} starts per variant, alternating; medians, with the range.`,
    '',
    '| variant | spawn → `GET /summary` 200 | range | hub CPU until then | peak RSS | range |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const [v, m] of Object.entries(s.median) as [StartVariant, NonNullable<StartupSummary['median'][StartVariant]>][]) {
    const rs = s.runs.filter((r) => r.variant === v);
    out.push(
      `| ${v}: ${WHAT[v]} | ${sec(m.ms)} s | ${spread(rs, (r) => r.ms, sec)} s | ${sec(m.cpuMs)} s | ${m.peakRssMb.toFixed(0)} MB | ${spread(
        rs,
        (r) => r.peakRssMb,
        (n) => n.toFixed(0),
      )} MB |`,
    );
  }
  const c = s.median.checkpoint;
  const b = s.median.small;
  out.push('');
  if (c && b)
    out.push(
      `With a checkpoint, ${fmt(s.big.events)} events start in **${(c.ms / b.ms).toFixed(2)} ×** the time of ${fmt(s.small.events)} events ` +
        `(${(c.cpuMs / b.cpuMs).toFixed(2)} × by the hub's CPU time).`,
    );
  if (s.replayRate !== null && s.replayCpuRate !== null)
    out.push(
      `The replay adds ${sec(s.median.replay!.ms - c!.ms)} s (${sec(s.median.replay!.cpuMs - c!.cpuMs)} s of CPU): **${fmt(s.replayRate)} events/s** ` +
        `(${fmt(s.replayCpuRate)} by CPU time; compare the replay benchmark above), peak RSS ${s.median.replay!.peakRssMb.toFixed(0)} MB against ${c!.peakRssMb.toFixed(0)} MB with the checkpoint.`,
    );
  out.push('');
  for (const v of ['checkpoint', 'replay'] as const) {
    const r = medianRun(s, v);
    if (!r) continue;
    out.push(`<details><summary>${v}: RSS every 250 ms and the hub's log until ready (median run)</summary>`, '');
    out.push(`RSS (MB): ${r.rssTimeline.map((x) => x.toFixed(0)).join(', ')}`, '');
    out.push('| ms after spawn | logged |', '|---:|---|');
    for (const l of r.logAt) out.push(`| ${fmt(l.ms)} | ${l.msg.replace(/\|/g, '\\|')} |`);
    out.push('', '</details>', '');
  }
  out.push('<details><summary>All starts (in the order they ran)</summary>', '', '| # | variant | time | CPU | peak RSS |', '|---:|---|---:|---:|---:|');
  s.runs.forEach((r, k) => out.push(`| ${k + 1} | ${r.variant} | ${sec(r.ms)} s | ${sec(r.cpuMs)} s | ${r.peakRssMb.toFixed(0)} MB |`));
  out.push('', '</details>', '');
  return out.join('\n');
}
