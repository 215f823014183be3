import os from 'node:os';
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

/**
 * Host figures for node_heartbeat, read when a heartbeat is due. Only cheap
 * synchronous reads of kernel counters (no child process, no blocking I/O):
 * uptime, load averages, memory, CPU busy share since the previous heartbeat
 * (absent in the first), and the agent's own RSS.
 */
export function createHostStats(): () => HostStats {
  let prev = cpuTimes();
  return () => {
    const total = os.totalmem();
    const used = total > 0 ? ((total - os.freemem()) / total) * 100 : undefined;
    const [l1 = 0, l5 = 0, l15 = 0] = os.loadavg();
    const now = cpuTimes();
    const cpu = cpuPercentBetween(prev, now);
    prev = now;
    return {
      uptimeSec: Math.max(0, Math.round(os.uptime())),
      load1: Math.max(0, round1(l1)),
      ...(used === undefined ? {} : { memUsedPercent: Math.min(100, Math.max(0, Math.round(used * 10) / 10)) }),
      ...(cpu === undefined ? {} : { cpuPercent: cpu }),
      load5: Math.max(0, round1(l5)),
      load15: Math.max(0, round1(l15)),
      agentRssMb: Math.round((process.memoryUsage.rss() / 2 ** 20) * 10) / 10,
    };
  };
}

/** One shared reader (CPU share since its previous call). */
export const osHostStats: () => HostStats = createHostStats();
