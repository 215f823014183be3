import os from 'node:os';
import type { HostHealthSampler } from './host-health';
import type { HostStats } from './watcher';

interface CpuTimes {
  busy: number;
  total: number;
}

function cpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const c of os.cpus()) {
    const t = c.times;
    const all = t.user + t.nice + t.sys + t.idle + t.irq;
    total += all;
    busy += all - t.idle;
  }
  return { busy, total };
}

/** Pure: busy share of all cores between two readings of the cores' counters, 0–100, one decimal. */
export function cpuPercentBetween(prev: CpuTimes, now: CpuTimes): number | undefined {
  const total = now.total - prev.total;
  if (!(total > 0)) return undefined;
  return Math.min(100, Math.max(0, Math.round(((now.busy - prev.busy) / total) * 1000) / 10));
}

const round1 = (n: number) => Math.round(n * 100) / 100;

/** The next host health sample starts this long after a heartbeat read the last one: once that heartbeat is out. */
export const HOST_SAMPLE_DELAY_MS = 1000;

/**
 * Host figures for node_heartbeat, read when a heartbeat is due. Only cheap
 * synchronous reads of kernel counters (no child process, no blocking I/O):
 * uptime, load averages, memory, CPU busy share since the previous heartbeat
 * (absent in the first), and the agent's own RSS. With a sampler, also the
 * host health it sampled after the previous heartbeat (temperature, memory
 * available, throttling: docs/host-health.md); the next sample starts a second
 * after the read, so a slow one never holds a heartbeat back.
 */
export function createHostStats(sampler?: HostHealthSampler): () => HostStats {
  let prev = cpuTimes();
  void sampler?.refresh();
  return () => {
    const total = os.totalmem();
    const used = total > 0 ? ((total - os.freemem()) / total) * 100 : undefined;
    const [l1 = 0, l5 = 0, l15 = 0] = os.loadavg();
    const now = cpuTimes();
    const cpu = cpuPercentBetween(prev, now);
    prev = now;
    const health = sampler?.latest() ?? {};
    sampler?.refreshLater(HOST_SAMPLE_DELAY_MS);
    return {
      uptimeSec: Math.max(0, Math.round(os.uptime())),
      load1: Math.max(0, round1(l1)),
      ...(used === undefined ? {} : { memUsedPercent: Math.min(100, Math.max(0, Math.round(used * 10) / 10)) }),
      ...(cpu === undefined ? {} : { cpuPercent: cpu }),
      load5: Math.max(0, round1(l5)),
      load15: Math.max(0, round1(l15)),
      agentRssMb: Math.round((process.memoryUsage.rss() / 2 ** 20) * 10) / 10,
      // /proc/meminfo's MemAvailable (host-sensors.ts) replaces os.freemem's figure when it answered.
      ...health,
    };
  };
}

/** One shared reader (CPU share since its previous call), without host health sampling. */
export const osHostStats: () => HostStats = createHostStats();
