import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { THROTTLE_CONDITIONS, throttleConditions, type Action, type Finding, type StoredEvent, type World } from '@homelab/contracts';
import { METRICS, type MetricKey, type MetricSpec } from './metric-table';
import { actionDurationSeconds, detectionLatencySeconds, isDetection, isFinalState } from './observations';

/** What /metrics reads at scrape time; nothing here runs per ingested message. */
export interface MetricSources {
  world: () => World;
  findings: () => Finding[];
  actions: () => Promise<Action[]>;
  ingest: () => { accepted: number; duplicates: number; rejected: Readonly<Record<string, number>> };
  mqttConnected: () => boolean;
  /** Null with an external broker (the hub does not see its clients). */
  mqttClients: () => number | null;
  eventLogBytes: () => Promise<number>;
  /** The node's clock offset (ms ahead of the hub) for the name its events came under. */
  clockOffsetMs: (node: string) => number;
  now: () => number;
}

type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>;

/** prom-client defaults whose names promtool's lint rejects (gauges ending in `_total`). */
const LINT_FAILING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** The names of every series the hub exports: the table's and prom-client's defaults, histograms with their `_bucket`, `_sum` and `_count`. */
export function exportedMetricNames(): string[] {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const defaults = registry.getMetricsAsArray().map((m) => ({ name: m.name, type: String(m.type) }));
  const all = [...Object.values(METRICS).map((m: MetricSpec) => ({ name: m.name, type: m.type as string })), ...defaults];
  return all
    .filter((m) => !LINT_FAILING_DEFAULTS.includes(m.name))
    .flatMap((m) => (m.type === 'histogram' ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name]));
}

/** The event log's size is a walk of its files: measured at most this often. */
const LOG_BYTES_TTL_MS = 10_000;

/**
 * The hub's Prometheus registry (docs/metrics.md), built from METRICS. Counts
 * the hub keeps anyway (ingest, world, actions) are read when scraped; only
 * detections, finished actions and notifier failures are observed as they
 * happen, through the hooks below.
 */
export class HubMetrics {
  readonly registry = new Registry();
  private readonly metrics = new Map<MetricKey, AnyMetric>();
  private logBytes: { at: number; value: Promise<number | null> } | null = null;

  constructor(private readonly sources: MetricSources) {
    collectDefaultMetrics({ register: this.registry });
    // Gauges named like counters: `promtool check metrics` refuses them (docs/metrics.md); the per-type ones stay.
    for (const name of LINT_FAILING_DEFAULTS) this.registry.removeSingleMetric(name);
    for (const [key, spec] of Object.entries(METRICS) as Array<[MetricKey, MetricSpec]>) {
      const base = { name: spec.name, help: spec.help, labelNames: [...spec.labels], registers: [this.registry] };
      const metric =
        spec.type === 'counter' ? new Counter(base) : spec.type === 'gauge' ? new Gauge(base) : new Histogram({ ...base, buckets: [...spec.buckets!] });
      this.metrics.set(key, metric);
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text, with every scrape-time value read now. */
  async render(): Promise<string> {
    await this.update();
    return this.registry.metrics();
  }

  /** Events just written durably (ingest's onWritten): detection latencies. One type check per event. */
  eventsWritten(written: readonly StoredEvent[]): void {
    const h = this.histogram('detectionLatency');
    for (const s of written) {
      if (!isDetection(s.event)) continue;
      const seconds = detectionLatencySeconds(s.event, s.rx, this.sources.clockOffsetMs(s.event.node));
      if (seconds !== null) h.observe({ type: s.event.type }, seconds);
    }
  }

  /** An action after a transition (the action store's hook): counted and timed once it is final. */
  actionTransitioned(a: Action): void {
    if (!isFinalState(a.state)) return;
    this.counter('actionsFinished').inc({ type: a.type, state: a.state });
    const seconds = actionDurationSeconds(a);
    if (seconds !== null) this.histogram('actionDuration').observe({ type: a.type, state: a.state }, seconds);
  }

  /** One supervisor cycle ended (Supervisor's onCycle), after `seconds`. */
  supervisorCycled(seconds: number): void {
    this.histogram('supervisorCycle').observe(seconds);
  }

  /** For notifiers: one notification `notifier` could not deliver. */
  notifierFailed(notifier: string): void {
    this.counter('notifierFailures').inc({ notifier });
  }

  private async update(): Promise<void> {
    const [actions, logBytes] = await Promise.all([this.sources.actions(), this.eventLogBytes()]);
    const ingest = this.sources.ingest();
    this.setCounter('eventsIngested', {}, ingest.accepted);
    this.setCounter('eventsDuplicate', {}, ingest.duplicates);
    const refused = this.counter('eventsRefused');
    refused.reset();
    for (const [reason, n] of Object.entries(ingest.rejected)) refused.inc({ reason }, n);

    const byTypeState = this.gauge('actions');
    byTypeState.reset();
    for (const a of actions) byTypeState.inc({ type: a.type, state: a.state });
    const findings = this.gauge('findings');
    findings.reset();
    for (const f of this.sources.findings()) findings.inc({ kind: f.kind });

    this.updateWorld(this.sources.world());
    this.gauge('mqttConnected').set(this.sources.mqttConnected() ? 1 : 0);
    this.setOptional('mqttClients', this.sources.mqttClients());
    this.setOptional('eventLogBytes', logBytes);
  }

  private updateWorld(world: World): void {
    const gauges: MetricKey[] = ['services', 'nodeOnline', 'nodeLastSeen', 'nodeDiskUsed', 'nodeThrottled'];
    const fromHeartbeat = (Object.entries(METRICS) as Array<[MetricKey, MetricSpec]>).filter(([, s]) => s.heartbeat);
    for (const key of [...gauges, ...fromHeartbeat.map(([k]) => k)]) this.gauge(key).reset();
    for (const s of Object.values(world.services)) this.gauge('services').inc({ node: s.node, status: s.status });
    for (const [node, n] of Object.entries(world.nodes)) {
      if (n.online !== null) this.gauge('nodeOnline').set({ node }, n.online ? 1 : 0);
      if (n.lastSeen) this.gauge('nodeLastSeen').set({ node }, Date.parse(n.lastSeen) / 1000);
      for (const d of Object.values(n.disks)) this.gauge('nodeDiskUsed').set({ node, mount: d.mount }, d.usedPercent / 100);
      const m = n.metrics ?? {};
      for (const [key, spec] of fromHeartbeat) {
        const v = m[spec.heartbeat!.field];
        if (v !== undefined) this.gauge(key).set({ node }, v * spec.heartbeat!.scale);
      }
      if (m.throttled !== undefined) {
        const held = throttleConditions(m.throttled);
        for (const when of ['now', 'sinceBoot'] as const) {
          for (const c of THROTTLE_CONDITIONS) {
            this.gauge('nodeThrottled').set({ node, condition: c.key, when: when === 'now' ? 'now' : 'since_boot' }, held[when].includes(c) ? 1 : 0);
          }
        }
      }
    }
  }

  /** Null when the walk failed: the gauge is left out rather than showing 0. */
  private eventLogBytes(): Promise<number | null> {
    const now = this.sources.now();
    if (!this.logBytes || now - this.logBytes.at >= LOG_BYTES_TTL_MS) {
      this.logBytes = { at: now, value: this.sources.eventLogBytes().catch(() => null) };
    }
    return this.logBytes.value;
  }

  /** An unlabelled gauge always shows a value once registered: one without a value leaves the registry instead of showing 0. */
  private setOptional(key: MetricKey, value: number | null): void {
    const g = this.gauge(key);
    const registered = this.registry.getSingleMetric(METRICS[key].name) !== undefined;
    if (value === null) {
      if (registered) this.registry.removeSingleMetric(METRICS[key].name);
      return;
    }
    if (!registered) this.registry.registerMetric(g);
    g.set(value);
  }

  private setCounter(key: MetricKey, labels: Record<string, string>, value: number): void {
    const c = this.counter(key);
    c.reset();
    c.inc(labels, value);
  }
  private counter(key: MetricKey): Counter<string> {
    return this.metrics.get(key) as Counter<string>;
  }
  private gauge(key: MetricKey): Gauge<string> {
    return this.metrics.get(key) as Gauge<string>;
  }
  private histogram(key: MetricKey): Histogram<string> {
    return this.metrics.get(key) as Histogram<string>;
  }
}
