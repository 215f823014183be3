import fs from 'node:fs/promises';
import { INGEST_GOAL, type IngestSummary } from './ingest';
import type { ReplaySummary } from './replay';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const sec = (ms: number) => (ms / 1000).toFixed(2);

const runLine = (date: Date, machine: string, seconds: number, load: [number, number]) =>
  `Run of ${date.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine}; this benchmark took ${seconds.toFixed(0)} s; ` +
  `1-minute load average ${load[0].toFixed(1)} before and ${load[1].toFixed(1)} after (2 cores; the benchmark itself adds 1–2, more means other work competed).`;

export interface RunInfo {
  date: Date;
  machine: string;
  seconds: number;
  load: [number, number];
}

export function renderIngest(i: IngestSummary, run: RunInfo): string {
  const out: string[] = [runLine(run.date, run.machine, run.seconds, run.load), ''];
  out.push(
    `${fmt(i.events)} events of ${i.avgBytes} bytes on average (3 nodes, increasing seq), QoS 1, one MQTT.js connection per node, ` +
      `at most ${i.window} unacknowledged per connection; ${i.reps} runs per variant, alternating; medians.`,
    '',
    '| variant | what is timed | median time | median rate | ratio to baseline | goal | CPU per event (receiving side [of it mosquitto] / publisher) |',
    '|---|---|---:|---:|---:|---|---:|',
  );
  const what: Record<string, string> = {
    mosquitto_sub: 'Mosquitto → `mosquitto_sub -q 1 > file` holds all N lines (not fsynced)',
    hub: '`homelab hub` (embedded aedes): acks after fdatasync cover every node’s last seq',
    'hub-ext': '`homelab hub --mqtt-url` on Mosquitto: the same acks',
  };
  for (const [v, m] of Object.entries(i.median)) {
    const ratio = v === 'mosquitto_sub' ? '1 (baseline)' : (i.ratio[v as 'hub' | 'hub-ext'] ?? 0).toFixed(2);
    const goal = v === 'mosquitto_sub' ? '' : `≥ ${INGEST_GOAL.toFixed(1)}`;
    out.push(
      `| ${v} | ${what[v]} | ${sec(m.ms)} s | ${fmt(m.rate)} events/s | ${ratio} | ${goal} | ${m.serverCpuUsPerEvent.toFixed(1)} µs` +
        `${m.brokerCpuUsPerEvent === undefined ? '' : ` [${m.brokerCpuUsPerEvent.toFixed(1)} µs]`} / ${m.publisherCpuUsPerEvent.toFixed(1)} µs |`,
    );
  }
  out.push(
    '',
    '<details><summary>All runs (in the order they ran)</summary>',
    '',
    '| # | variant | time | rate | CPU receiving side | CPU publisher |',
    '|---:|---|---:|---:|---:|---:|',
  );
  i.runs.forEach((r, k) =>
    out.push(`| ${k + 1} | ${r.variant} | ${sec(r.ms)} s | ${fmt(r.rate)} events/s | ${sec(r.serverCpuMs)} s | ${sec(r.publisherCpuMs)} s |`),
  );
  out.push('', '</details>', '');
  return out.join('\n');
}

export function renderReplay(p: ReplaySummary, run: RunInfo): string {
  const out: string[] = [runLine(run.date, run.machine, run.seconds, run.load), ''];
  out.push(
    `${fmt(p.events)} events (${(p.logBytes / 2 ** 20).toFixed(0)} MiB in ${p.files} files: ${p.nodes} nodes × ${p.services} services over ${p.days} days, ` +
      `plus the hub’s status stream), page-cached; each pass in a fresh process pinned to one core (\`taskset -c ${p.cpu}\`); ${p.reps} passes per mode, alternating; medians.`,
    '',
    '| mode | what it does | median time | median rate | rate by CPU time | ratio of replay to it | peak RSS | peak heap |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  );
  const what: Record<string, string> = {
    count: 'read the files in 1 MiB chunks, count newlines',
    parse: 'the same, plus `JSON.parse` of every line',
    replay: '`replay()`: reader + validation + fold + world files',
  };
  for (const [m, v] of Object.entries(p.median)) {
    const ratio = m === 'replay' ? '—' : (m === 'count' ? p.ratio.replayVsCount : p.ratio.replayVsParse).toFixed(2);
    out.push(
      `| ${m} | ${what[m]} | ${sec(v.ms)} s | ${fmt(v.rate)} events/s | ${fmt(v.cpuRate)} events/s | ${ratio} | ${v.peakRssMb.toFixed(0)} MB | ${v.peakHeapMb.toFixed(0)} MB |`,
    );
  }
  const met = p.median.replay.rate >= 500_000 ? 'met' : 'NOT met';
  out.push(
    '',
    `Goal: replay ≥ 500,000 events/s on one core — this run: **${fmt(p.median.replay.rate)} events/s** (${fmt(p.median.replay.cpuRate)} by CPU time): **${met}**. ` +
      `JSON.parse of every line alone, on the same core, reaches ${fmt(p.median.parse.rate)} events/s.`,
    '',
  );
  if (p.rssCurve.length) {
    out.push(
      'Memory of the median replay pass while it runs (flat: the log is streamed, not loaded):',
      '',
      '| events folded | RSS | heap used |',
      '|---:|---:|---:|',
    );
    for (const c of p.rssCurve) out.push(`| ${fmt(c.events)} | ${c.rssMb.toFixed(0)} MB | ${c.heapMb.toFixed(0)} MB |`);
    out.push('');
  }
  out.push(
    '<details><summary>All passes (in the order they ran)</summary>',
    '',
    '| # | mode | time | CPU time | rate | peak RSS |',
    '|---:|---|---:|---:|---:|---:|',
  );
  p.runs.forEach((r, k) =>
    out.push(`| ${k + 1} | ${r.mode} | ${sec(r.ms)} s | ${sec(r.cpuMs)} s | ${fmt((r.events / r.ms) * 1000)} events/s | ${r.peakRssMb.toFixed(0)} MB |`),
  );
  out.push('', '</details>', '');
  return out.join('\n');
}

const begin = (name: string) => `<!-- bench:${name}:begin (written by \`npm run bench -- ${name} --write\`) -->`;
const end = (name: string) => `<!-- bench:${name}:end -->`;

/** Replaces the block of benchmark `name` in docs/benchmarks.md; the rest of the page (hand-written, other benchmarks) stays. */
export async function writeDocs(file: string, name: string, md: string): Promise<void> {
  const doc = await fs.readFile(file, 'utf8');
  const a = doc.indexOf(begin(name));
  const b = doc.indexOf(end(name));
  if (a < 0 || b < a) throw new Error(`${file} has no ${begin(name)} … ${end(name)} block to replace`);
  await fs.writeFile(file, `${doc.slice(0, a + begin(name).length)}\n\n${md}\n${doc.slice(b)}`);
}
