import { throttleConditions, type WorldNode } from '@homelab/contracts';
import type { Finding } from './findings';

/**
 * `host_temperature` and `host_throttled` findings from each node's latest
 * heartbeat (docs/host-health.md): at or above `maxTempC`, and while the
 * firmware reports under-voltage or throttling now. An offline node's figures
 * are stale, so it gets none (it has its `node_offline`). Sorted by node.
 */
export function hostHealthFindings(nodes: ReadonlyMap<string, WorldNode>, maxTempC: number): Finding[] {
  const out: Finding[] = [];
  for (const node of [...nodes.keys()].sort()) {
    const n = nodes.get(node)!;
    if (n.online === false || !n.metrics) continue;
    const temp = n.metrics.cpuTempC;
    if (temp !== undefined && temp >= maxTempC) {
      out.push({ kind: 'host_temperature', node, message: `${node}: CPU at ${temp} °C (finding from ${maxTempC} °C); check cooling and airflow` });
    }
    const bits = n.metrics.throttled;
    const now = bits === undefined ? [] : throttleConditions(bits).now;
    if (now.length) {
      out.push({
        kind: 'host_throttled',
        node,
        message: `${node}: ${now.map((c) => c.text).join(', ')} now (get_throttled 0x${bits!.toString(16)}); check the power supply and cooling`,
      });
    }
  }
  return out;
}
