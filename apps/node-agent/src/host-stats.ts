import os from 'node:os';
import type { HostStats } from './watcher';

/** Host figures for node_heartbeat, read when a heartbeat is due. */
export function osHostStats(): HostStats {
  const total = os.totalmem();
  const used = total > 0 ? ((total - os.freemem()) / total) * 100 : undefined;
  return {
    uptimeSec: Math.max(0, Math.round(os.uptime())),
    load1: Math.max(0, os.loadavg()[0] ?? 0),
    ...(used === undefined ? {} : { memUsedPercent: Math.min(100, Math.max(0, Math.round(used * 10) / 10)) }),
  };
}
