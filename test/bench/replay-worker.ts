/**
 * One measured pass over a generated log, in a process of its own (the
 * caller pins it to one core with `taskset`):
 *   node --import tsx test/bench/replay-worker.ts --mode count|parse|replay --root R
 *
 *  - count:  read every events file in 1 MiB chunks and count newlines (raw I/O floor);
 *  - parse:  the same, plus a string and JSON.parse per line (floor of any JSON decoder);
 *  - replay: `replay()` of apps/hub/src/observer — reader, validation, fold, world
 *            files and checkpoint written at the end, as `homelab replay` does.
 *
 * Prints one JSON line: events, wall and CPU time (ms, cpuMs: user + system
 * of this process, so time the core spent on others is not counted), peak RSS and heap (sampled every 10 ms and
 * at every 100,000 events), and the RSS seen at each 100,000 events.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { replay } from '@homelab/hub/replay';

const { values } = parseArgs({ options: { mode: { type: 'string' }, root: { type: 'string' } } });
const mode = values.mode;
const root = values.root!;
const CHUNK = 1024 * 1024;

let peakRss = 0;
let peakHeap = 0;
const sample = () => {
  const m = process.memoryUsage();
  if (m.rss > peakRss) peakRss = m.rss;
  if (m.heapUsed > peakHeap) peakHeap = m.heapUsed;
  return m;
};
const rssAt: { events: number; rssMb: number; heapMb: number }[] = [];

async function files(): Promise<string[]> {
  const dir = path.join(root, 'events');
  const out: string[] = [];
  for (const day of (await fs.readdir(dir)).sort()) {
    for (const f of (await fs.readdir(path.join(dir, day))).sort()) if (f.endsWith('.jsonl')) out.push(path.join(dir, day, f));
  }
  return out;
}

/** Newline count (count) or JSON.parse of every line (parse), chunk by chunk. */
async function scan(parse: boolean): Promise<number> {
  const buf = Buffer.allocUnsafe(CHUNK);
  let lines = 0;
  let sink = 0;
  for (const file of await files()) {
    const fh = await fs.open(file, 'r');
    try {
      let carry: Buffer | null = null;
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
        if (bytesRead === 0) break;
        const b: Buffer = carry ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
        let s = 0;
        for (let e = b.indexOf(10, s); e >= 0; e = b.indexOf(10, s)) {
          if (parse) sink += (JSON.parse(b.toString('utf8', s, e)) as { event: { seq: number } }).event.seq & 1;
          lines++;
          s = e + 1;
        }
        carry = s < b.length ? Buffer.from(b.subarray(s)) : null;
      }
    } finally {
      await fh.close();
    }
  }
  if (sink < 0) console.error(sink);
  return lines;
}

const timer = setInterval(sample, 10);
sample();
const t0 = performance.now();
const cpu0 = process.cpuUsage();
let events: number;
if (mode === 'count' || mode === 'parse') {
  events = await scan(mode === 'parse');
} else if (mode === 'replay') {
  const res = await replay(root, { aliases: {} }, (p) => {
    const m = sample();
    const events = p.applied + p.skipped;
    // Progress also comes at the end of every stream; the curve keeps the round numbers.
    if (events % 100_000 === 0 && rssAt.at(-1)?.events !== events) rssAt.push({ events, rssMb: m.rss / 2 ** 20, heapMb: m.heapUsed / 2 ** 20 });
  });
  events = res.applied + res.skipped;
  if (res.corruptLines) throw new Error(`replay met ${res.corruptLines} corrupt lines`);
} else {
  throw new Error(`--mode count|parse|replay, not ${mode}`);
}
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000;
clearInterval(timer);
sample();
const hwm = /VmHWM:\s+(\d+) kB/.exec(await fs.readFile('/proc/self/status', 'utf8'));
process.stdout.write(
  `${JSON.stringify({ result: true, mode, events, ms, cpuMs, peakRssMb: peakRss / 2 ** 20, peakHeapMb: peakHeap / 2 ** 20, vmHwmMb: hwm ? Number(hwm[1]) / 1024 : null, rssAt })}\n`,
);
