import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Action, HomelabEvent, StoredEvent, World, WorldNode } from '@homelab/contracts';
import { exportedMetricNames, HubMetrics, type MetricSources } from './hub-metrics';
import { METRICS } from './metric-table';
import { actionDurationSeconds, detectionLatencySeconds } from './observations';

const T0 = '2026-03-01T12:00:00.000Z';
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();
const ev = (type: string, data?: unknown, tsMs = 0): HomelabEvent =>
  ({
    id: 'piha-1',
    node: 'piha',
    seq: 1,
    ts: at(tsMs),
    type,
    ...(type.startsWith('service') ? { service: 'grafana' } : {}),
    ...(data ? { data } : {}),
  }) as HomelabEvent;

describe('detection latency', () => {
  it.each([
    { name: 'an unhealthy service, 40 ms in transit', e: ev('service_unhealthy', { reason: 'restart_loop' }), rx: at(40), offset: 0, want: 0.04 },
    {
      name: 'the repeat of an unchanged state is no detection',
      e: ev('service_unhealthy', { reason: 'restart_loop', heartbeat: true }),
      rx: at(40),
      offset: 0,
      want: null,
    },
    { name: 'a healthy service is no detection', e: ev('service_healthy'), rx: at(40), offset: 0, want: null },
    { name: 'disk pressure', e: ev('disk_pressure', { mount: '/', level: 'high', usedPercent: 97 }), rx: at(1500), offset: 0, want: 1.5 },
    { name: 'docker unreachable', e: ev('docker_unreachable', { detail: 'x' }), rx: at(20), offset: 0, want: 0.02 },
    { name: 'a node 5 s ahead: its time corrected', e: ev('service_unhealthy', { reason: 'x' }, 5000), rx: at(30), offset: 5000, want: 0.03 },
    { name: 'a node 2 s behind: its time corrected', e: ev('service_unhealthy', { reason: 'x' }, -2000), rx: at(30), offset: -2000, want: 0.03 },
    { name: 'never negative', e: ev('service_unhealthy', { reason: 'x' }, 900), rx: at(30), offset: 0, want: 0 },
  ])('$name', ({ e, rx, offset, want }) => {
    const got = detectionLatencySeconds(e, rx, offset);
    if (want === null) expect(got).toBeNull();
    else expect(got).toBeCloseTo(want, 6);
  });
});

const action = (state: Action['state'], last: Partial<Action['audit'][number]> = {}): Action =>
  ({
    id: 'container-restart-piha-grafana',
    type: 'container_restart',
    node: 'piha',
    service: 'grafana',
    state,
    createdAt: T0,
    updatedAt: T0,
    audit: [
      { at: T0, state: 'pending', by: 'supervisor', via: 'supervisor' },
      { at: T0, state, by: 'executor', via: 'executor', ...last },
    ],
  }) as unknown as Action;

describe('action duration', () => {
  it.each([
    { name: 'completed: what the agent measured', a: action('completed', { durationMs: 1250, sinceApprovalMs: 1400 }), want: 1.25 },
    { name: 'failed without an answer: from approval', a: action('failed', { sinceApprovalMs: 120_000 }), want: 120 },
    { name: 'rejected: never ran', a: action('rejected'), want: null },
    { name: 'running: not final', a: action('running'), want: null },
  ])('$name', ({ a, want }) => expect(actionDurationSeconds(a)).toBe(want));
});

const node = (name: string, over: Partial<WorldNode> = {}): WorldNode => ({
  node: name,
  online: true,
  session: 1,
  statusSince: T0,
  lastSeen: T0,
  lastSeq: 10,
  dockerReachable: true,
  disks: { '/': { mount: '/', level: 'ok', usedPercent: 41, since: T0 } },
  ...over,
});

function fixture(over: Partial<MetricSources> = {}) {
  let logWalks = 0;
  let now = 0;
  const world: World = {
    services: {
      'piha/grafana': { node: 'piha', service: 'grafana', status: 'healthy', since: T0, lastSeen: T0, lastEventId: 'a', lastSeq: 1, problemEventIds: [] },
      'piha/mqtt': { node: 'piha', service: 'mqtt', status: 'unhealthy', since: T0, lastSeen: T0, lastEventId: 'b', lastSeq: 2, problemEventIds: [] },
    },
    nodes: {
      piha: node('piha', { metrics: { agentRssMb: 50, cpuTempC: 61.5, memUsedPercent: 25, throttled: 0x50005, uptimeSec: 3600 } }),
      vps: node('vps', { online: false, metrics: { agentRssMb: 40 } }),
    },
  };
  const metrics = new HubMetrics({
    world: () => world,
    findings: () => [{ kind: 'host_temperature', node: 'piha', message: 'hot' }],
    actions: async () => [action('pending'), action('completed', { durationMs: 1000 })],
    ingest: () => ({ accepted: 12, duplicates: 3, rejected: { invalid_schema: 2, gap: 0 } }),
    mqttConnected: () => true,
    mqttClients: () => 4,
    eventLogBytes: async () => {
      logWalks++;
      return 4096;
    },
    clockOffsetMs: () => 0,
    now: () => now,
    ...over,
  });
  return { metrics, world, walks: () => logWalks, advance: (ms: number) => (now += ms) };
}

/** `name{labels} value` lines of the exposition, comments left out. */
const samples = (text: string) => text.split('\n').filter((l) => l.startsWith('homelab_'));

describe('HubMetrics', () => {
  it('exports what the hub already counts, read when scraped', async () => {
    const { metrics } = fixture();
    const s = samples(await metrics.render());
    expect(s).toContain('homelab_events_ingested_total 12');
    expect(s).toContain('homelab_events_duplicate_total 3');
    expect(s).toContain('homelab_events_refused_total{reason="invalid_schema"} 2');
    expect(s).toContain('homelab_actions{type="container_restart",state="pending"} 1');
    expect(s).toContain('homelab_services{node="piha",status="unhealthy"} 1');
    expect(s).toContain('homelab_findings{kind="host_temperature"} 1');
    expect(s).toContain('homelab_mqtt_clients 4');
    expect(s).toContain('homelab_mqtt_connected 1');
    expect(s).toContain('homelab_event_log_bytes 4096');
  });

  it('exports per node: online, last seen, disks and the heartbeat figures, scaled to base units', async () => {
    const s = samples(await fixture().metrics.render());
    expect(s).toContain('homelab_node_online{node="piha"} 1');
    expect(s).toContain('homelab_node_online{node="vps"} 0');
    expect(s).toContain(`homelab_node_last_seen_timestamp_seconds{node="piha"} ${Date.parse(T0) / 1000}`);
    expect(s).toContain('homelab_node_disk_used_ratio{node="piha",mount="/"} 0.41');
    expect(s).toContain(`homelab_node_agent_resident_memory_bytes{node="piha"} ${50 * 2 ** 20}`);
    expect(s).toContain('homelab_node_cpu_temperature_celsius{node="piha"} 61.5');
    expect(s).toContain('homelab_node_memory_used_ratio{node="piha"} 0.25');
    expect(s).toContain('homelab_node_uptime_seconds{node="piha"} 3600');
    expect(s).toContain('homelab_node_throttled{node="piha",condition="under_voltage",when="now"} 1');
    expect(s).toContain('homelab_node_throttled{node="piha",condition="frequency_capped",when="now"} 0');
    expect(s).toContain('homelab_node_throttled{node="piha",condition="throttled",when="since_boot"} 1');
    // Not reported by the node: absent, never 0.
    expect(s.filter((l) => l.includes('node="vps"') && (l.includes('temperature') || l.includes('throttled')))).toEqual([]);
  });

  it('drops the series of a node that left the world', async () => {
    const { metrics, world } = fixture();
    await metrics.render();
    delete world.nodes.vps;
    expect(samples(await metrics.render()).filter((l) => l.includes('node="vps"'))).toEqual([]);
  });

  it('observes detections, finished actions and supervisor cycles as they happen', async () => {
    const { metrics } = fixture();
    const stored = (e: HomelabEvent, rxMs: number): StoredEvent => ({ event: e, rx: at(rxMs) });
    metrics.eventsWritten([stored(ev('service_unhealthy', { reason: 'restart_loop' }), 30), stored(ev('service_healthy'), 30)]);
    metrics.actionTransitioned(action('running'));
    metrics.actionTransitioned(action('completed', { durationMs: 2000 }));
    metrics.notifierFailed('telegram');
    metrics.supervisorCycled(0.03);
    metrics.supervisorCycled(0.4);
    const s = samples(await metrics.render());
    expect(s).toContain('homelab_supervisor_cycle_seconds_count 2');
    expect(s).toContain('homelab_supervisor_cycle_seconds_bucket{le="0.05"} 1');
    expect(s).toContain('homelab_supervisor_cycle_seconds_bucket{le="0.5"} 2');
    expect(s).toContain('homelab_detection_latency_seconds_count{type="service_unhealthy"} 1');
    expect(s).toContain('homelab_detection_latency_seconds_bucket{le="0.05",type="service_unhealthy"} 1');
    expect(s.some((l) => l.includes('type="service_healthy"'))).toBe(false);
    expect(s).toContain('homelab_actions_finished_total{type="container_restart",state="completed"} 1');
    expect(s).toContain('homelab_action_duration_seconds_sum{type="container_restart",state="completed"} 2');
    expect(s).toContain('homelab_notifier_failures_total{notifier="telegram"} 1');
  });

  it('walks the event log at most every 10 s, and leaves the gauge out when the walk fails', async () => {
    const f = fixture();
    await f.metrics.render();
    await f.metrics.render();
    expect(f.walks()).toBe(1);
    f.advance(10_000);
    await f.metrics.render();
    expect(f.walks()).toBe(2);
    const broken = fixture({ eventLogBytes: () => Promise.reject(new Error('EIO')) });
    expect(samples(await broken.metrics.render()).filter((l) => l.startsWith('homelab_event_log_bytes'))).toEqual([]);
  });

  it('leaves the broker client count out with an external broker', async () => {
    const s = samples(await fixture({ mqttClients: () => null }).metrics.render());
    expect(s.filter((l) => l.startsWith('homelab_mqtt_clients'))).toEqual([]);
  });

  it('declares every metric once, with a unique name', () => {
    const names = Object.values(METRICS).map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^homelab_[a-z0-9_]+$/);
    expect(exportedMetricNames()).toEqual(expect.arrayContaining(['homelab_detection_latency_seconds_bucket', 'process_resident_memory_bytes']));
    expect(exportedMetricNames()).not.toContain('nodejs_active_handles_total');
  });

  it('has every metric in the table of docs/metrics.md', () => {
    const doc = fs.readFileSync(path.resolve(import.meta.dirname, '../../../../docs/metrics.md'), 'utf8');
    for (const m of Object.values(METRICS)) expect(doc, m.name).toContain(`\`${m.name}\``);
  });
});
