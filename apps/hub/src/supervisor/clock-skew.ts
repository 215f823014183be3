import { CLOCK_SKEW_FINDING_MS, type WorldNode } from '@homelab/contracts';
import type { Finding } from './findings';

/**
 * `clock_skew` findings: nodes whose clock is off the hub's by more than
 * `thresholdMs` (docs/observer-runtime.md, "Clock offset"). The hub already corrects
 * their times (`since`) and the agents judge deadlines in the hub's time, so
 * this asks the operator to fix the clock, nothing more. Sorted by node.
 */
export function clockSkewFindings(nodes: ReadonlyMap<string, WorldNode>, thresholdMs = CLOCK_SKEW_FINDING_MS): Finding[] {
  const out: Finding[] = [];
  for (const node of [...nodes.keys()].sort()) {
    const clocks = nodes.get(node)!.clocks ?? {};
    for (const name of Object.keys(clocks).sort()) {
      const offset = clocks[name]!.offsetMs;
      if (Math.abs(offset) <= thresholdMs) continue;
      const who = name === node ? node : `${node} (events as ${name})`;
      const way = offset > 0 ? 'ahead of' : 'behind';
      out.push({
        kind: 'clock_skew',
        node,
        message: `${who}: its clock is ${humanOffset(Math.abs(offset))} ${way} the hub's (offset ${offset} ms); times it reports are corrected, but fix its clock (NTP)`,
      });
    }
  }
  return out;
}

/** `18000000` → `5 h 0 min`, `95000` → `1 min 35 s`, `2500` → `2.5 s`. */
export function humanOffset(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
