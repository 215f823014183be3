import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportedMetricNames, METRICS } from '@homelab/hub/metrics';

const FILE = path.resolve(import.meta.dirname, '../../deploy/grafana/homelab-fleet.json');

interface Panel {
  type: string;
  title: string;
  panels?: Panel[];
  targets?: Array<{ expr: string }>;
}

/**
 * Metric names in a PromQL expression (or a `label_values(metric, label)` variable query):
 * identifiers left once strings, label matchers, grouping clauses and ranges are removed,
 * that are neither functions (followed by `(`) nor keywords.
 */
function metricNames(expr: string): string[] {
  const variable = /^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(expr);
  if (variable) return [variable[1]!];
  const bare = expr
    .replace(/"[^"]*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '');
  const keywords = new Set(['or', 'and', 'unless', 'bool', 'offset']);
  return [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)]
    .filter((m) => !/^\s*\(/.test(bare.slice(m.index! + m[0].length)) && !keywords.has(m[0]))
    .map((m) => m[0]);
}

describe('the Grafana dashboard (deploy/grafana/homelab-fleet.json)', () => {
  const dashboard = JSON.parse(fs.readFileSync(FILE, 'utf8')) as {
    title: string;
    uid: string;
    panels: Panel[];
    templating: { list: Array<{ query: { query: string } }> };
  };
  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
  const exprs = [...panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)), ...dashboard.templating.list.map((v) => v.query.query)];

  it('is a dashboard with a title, a uid and queries in every panel', () => {
    expect(dashboard.title).toBeTruthy();
    expect(dashboard.uid).toMatch(/^[a-z0-9-]+$/);
    for (const p of panels) expect(p.targets?.length, p.title).toBeGreaterThan(0);
  });

  it('queries only metrics the hub exports', () => {
    const exported = new Set(exportedMetricNames());
    const used = new Set(exprs.flatMap(metricNames));
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((n) => !exported.has(n))).toEqual([]);
  });

  it('has a panel for the figures people watch: temperature, throttling, memory, disk, detection latency, refusals', () => {
    const used = new Set(exprs.flatMap(metricNames));
    for (const key of ['nodeCpuTemperature', 'nodeMemoryUsed', 'nodeDiskUsed', 'nodeAgentRss', 'eventsRefused', 'actions', 'nodeLastSeen'] as const)
      expect(used, METRICS[key].name).toContain(METRICS[key].name);
    expect(used).toContain('homelab_node_throttled');
    expect(used).toContain('homelab_detection_latency_seconds_bucket');
  });

  it('finds metric names in PromQL, and not functions or labels', () => {
    expect(metricNames('histogram_quantile(0.95, sum by (le, type) (rate(homelab_action_duration_seconds_bucket[1h])))')).toEqual([
      'homelab_action_duration_seconds_bucket',
    ]);
    expect(metricNames('time() - homelab_node_last_seen_timestamp_seconds{node=~"$node"}')).toEqual(['homelab_node_last_seen_timestamp_seconds']);
    expect(metricNames('count(homelab_node_online == 0) or vector(0)')).toEqual(['homelab_node_online']);
    expect(metricNames('label_values(homelab_node_online, node)')).toEqual(['homelab_node_online']);
  });
});
