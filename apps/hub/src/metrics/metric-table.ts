/**
 * Every metric the hub exports on /metrics, declared once (docs/metrics.md):
 * the registry (hub-metrics.ts), the docs' table and the dashboard test all
 * read this table. Besides these, prom-client's default `process_*` and
 * `nodejs_*` metrics of the hub process itself.
 */
export interface MetricSpec {
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly name: string;
  readonly help: string;
  readonly labels: readonly string[];
  readonly buckets?: readonly number[];
  /** A per-node gauge taken from the node's latest heartbeat (WorldNode.metrics): its field, times `scale`. */
  readonly heartbeat?: { readonly field: string; readonly scale: number };
}

const MiB = 2 ** 20;

export const METRICS = {
  eventsIngested: {
    type: 'counter',
    name: 'homelab_events_ingested_total',
    help: 'Events written durably to the event log since the hub started',
    labels: [],
  },
  eventsDuplicate: {
    type: 'counter',
    name: 'homelab_events_duplicate_total',
    help: 'Events received again that the log already held (redelivery; harmless)',
    labels: [],
  },
  eventsRefused: {
    type: 'counter',
    name: 'homelab_events_refused_total',
    help: 'Inbound MQTT messages not accepted, by reason',
    labels: ['reason'],
  },
  detectionLatency: {
    type: 'histogram',
    name: 'homelab_detection_latency_seconds',
    help: "From a node observing a problem (event time, corrected by the node's clock offset) to its durable write at the hub",
    labels: ['type'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  },
  supervisorCycle: {
    type: 'histogram',
    name: 'homelab_supervisor_cycle_seconds',
    help: 'How long one supervisor cycle took: load desired state, reconcile, apply the plan (docs/supervisor.md, "One cycle")',
    labels: [],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  },
  actions: {
    type: 'gauge',
    name: 'homelab_actions',
    help: 'Action files by type and state (pending, approved, running, and finished ones not yet archived)',
    labels: ['type', 'state'],
  },
  actionsFinished: {
    type: 'counter',
    name: 'homelab_actions_finished_total',
    help: 'Actions that reached a final state since the hub started, by type and final state',
    labels: ['type', 'state'],
  },
  actionDuration: {
    type: 'histogram',
    name: 'homelab_action_duration_seconds',
    help: 'How long an executed action ran on its node (from approval when the node never answered), by type and final state',
    labels: ['type', 'state'],
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
  },
  services: {
    type: 'gauge',
    name: 'homelab_services',
    help: 'Services in world state by node and status',
    labels: ['node', 'status'],
  },
  findings: {
    type: 'gauge',
    name: 'homelab_findings',
    help: "The supervisor's current findings by kind",
    labels: ['kind'],
  },
  nodeOnline: {
    type: 'gauge',
    name: 'homelab_node_online',
    help: "1 while the node's agent is online, 0 when offline (absent until it was seen)",
    labels: ['node'],
  },
  nodeLastSeen: {
    type: 'gauge',
    name: 'homelab_node_last_seen_timestamp_seconds',
    help: 'Hub receive time of the latest event from the node (Unix seconds)',
    labels: ['node'],
  },
  nodeDiskUsed: {
    type: 'gauge',
    name: 'homelab_node_disk_used_ratio',
    help: 'Used share of each watched mount (0-1)',
    labels: ['node', 'mount'],
  },
  nodeAgentRss: {
    type: 'gauge',
    name: 'homelab_node_agent_resident_memory_bytes',
    help: "The node agent process's resident memory",
    labels: ['node'],
    heartbeat: { field: 'agentRssMb', scale: MiB },
  },
  nodeCpuTemperature: {
    type: 'gauge',
    name: 'homelab_node_cpu_temperature_celsius',
    help: 'CPU / SoC temperature where the node reports one',
    labels: ['node'],
    heartbeat: { field: 'cpuTempC', scale: 1 },
  },
  nodeCpuBusy: {
    type: 'gauge',
    name: 'homelab_node_cpu_busy_ratio',
    help: 'Busy share of all cores between the two latest heartbeats (0-1)',
    labels: ['node'],
    heartbeat: { field: 'cpuPercent', scale: 0.01 },
  },
  nodeLoad1: { type: 'gauge', name: 'homelab_node_load1', help: '1-minute load average', labels: ['node'], heartbeat: { field: 'load1', scale: 1 } },
  nodeLoad5: { type: 'gauge', name: 'homelab_node_load5', help: '5-minute load average', labels: ['node'], heartbeat: { field: 'load5', scale: 1 } },
  nodeLoad15: { type: 'gauge', name: 'homelab_node_load15', help: '15-minute load average', labels: ['node'], heartbeat: { field: 'load15', scale: 1 } },
  nodeMemoryUsed: {
    type: 'gauge',
    name: 'homelab_node_memory_used_ratio',
    help: 'Share of memory in use (0-1; from MemAvailable where the agent reads it)',
    labels: ['node'],
    heartbeat: { field: 'memUsedPercent', scale: 0.01 },
  },
  nodeMemoryAvailable: {
    type: 'gauge',
    name: 'homelab_node_memory_available_bytes',
    help: 'Memory the kernel can hand out without swapping (MemAvailable)',
    labels: ['node'],
    heartbeat: { field: 'memAvailableMb', scale: MiB },
  },
  nodeUptime: { type: 'gauge', name: 'homelab_node_uptime_seconds', help: "The node's uptime", labels: ['node'], heartbeat: { field: 'uptimeSec', scale: 1 } },
  nodeThrottled: {
    type: 'gauge',
    name: 'homelab_node_throttled',
    help: 'Raspberry Pi firmware conditions (get_throttled): 1 if it holds now (when=now) or occurred since boot (when=since_boot); absent where the platform does not report them',
    labels: ['node', 'condition', 'when'],
  },
  mqttClients: {
    type: 'gauge',
    name: 'homelab_mqtt_clients',
    help: 'Clients connected to the embedded broker (absent with an external broker)',
    labels: [],
  },
  mqttConnected: {
    type: 'gauge',
    name: 'homelab_mqtt_connected',
    help: "1 while the hub's own MQTT link is connected",
    labels: [],
  },
  eventLogBytes: {
    type: 'gauge',
    name: 'homelab_event_log_bytes',
    help: 'Bytes the event log takes on disk (plain and gzipped day files)',
    labels: [],
  },
  notifierFailures: {
    type: 'counter',
    name: 'homelab_notifier_failures_total',
    help: 'Notifications a notifier could not deliver, by notifier',
    labels: ['notifier'],
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricKey = keyof typeof METRICS;
