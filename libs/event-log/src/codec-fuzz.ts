import { StoredEvent, type HomelabEvent } from '@homelab/contracts';
import { prng } from '@homelab/testkit';

/**
 * Records and mutations for the codec tests (line-codec.test.ts,
 * fast-line.test.ts): one event of every shape, and random damage that keeps
 * most of a record valid, so the fast paths are checked against zod near the
 * edges of what they accept. Test support, not exported from the package.
 */

export const RX = '2026-03-01T10:00:00.000Z';
const base = (seq: number) => ({ id: `piha-${seq}`, node: 'piha', seq, ts: '2026-03-01T09:59:59.500Z' });

/** One event of every shape the fast path knows, and some it leaves to zod. */
export const EVENTS: HomelabEvent[] = [
  { ...base(1), type: 'service_healthy', service: 'grafana' },
  {
    ...base(2),
    type: 'service_healthy',
    service: 'grafana',
    data: { heartbeat: true, containers: [{ name: 'grafana-1', state: 'running', health: 'healthy', restartCount: 0 }] },
  },
  { ...base(3), type: 'service_recovered', service: 'grafana', data: { containers: [{ name: 'grafana-1', state: 'running' }] } },
  { ...base(4), type: 'service_unhealthy', service: 'grafana', data: { reason: 'probe_failed' } },
  {
    ...base(5),
    type: 'service_unhealthy',
    service: 'grafana',
    data: {
      containers: [
        { name: 'grafana-1', state: 'exited', restartCount: 3 },
        { name: 'grafana.db_2', state: 'running' },
      ],
      heartbeat: true,
      reason: 'containers_not_running',
      detail: 'exit 137 — “OOM” ✓',
    },
  },
  { ...base(6), type: 'node_heartbeat' },
  { ...base(7), type: 'node_heartbeat', data: { uptimeSec: 12.5, load1: 0.42, memUsedPercent: 63.1, services: 40 } },
  { ...base(8), type: 'disk_pressure', data: { mount: '/', level: 'high', usedPercent: 97.5, freeBytes: 1e9 } },
  { ...base(9), type: 'disk_ok', data: { mount: '/var/lib/docker', usedPercent: 40 } },
  { ...base(10), type: 'node_online', data: { session: 3, version: '0.1.0', backlogUntilSeq: 90, backlogEvents: 12 } },
  { ...base(11), type: 'node_offline', data: { session: 3, reason: 'status_offline' } },
  {
    ...base(16),
    type: 'service_unhealthy',
    service: 'grafana',
    data: { reason: 'mqtt_unreachable', detail: 'mqtt broker: timeout after 2000 ms', probe: 'broker' },
  },
  {
    ...base(17),
    type: 'node_heartbeat',
    data: {
      uptimeSec: 9,
      load1: 0.1,
      memUsedPercent: 50,
      services: 3,
      cpuPercent: 2.5,
      load5: 0.2,
      load15: 0.3,
      agentRssMb: 41.2,
      cpuTempC: 61.3,
      memAvailableMb: 1804.5,
      throttled: 0x50005,
    },
  },
  // Left to zod by design:
  { ...base(12), type: 'node_online', data: { session: 4, services: { grafana: { status: 'healthy' } } } },
  { ...base(13), type: 'events_dropped', data: { count: 5, fromSeq: 1, toSeq: 5 } },
  { ...base(14), type: 'docker_unreachable', data: { detail: 'ECONNREFUSED' } },
  { ...base(15), type: 'docker_reachable' },
  { ...base(18), type: 'node_inventory', data: { unmanaged: [{ name: 'portainer', state: 'running', image: 'portainer/portainer-ce:2' }] } },
];
export const FAST = 13;

export const canonical = (e: HomelabEvent): StoredEvent => StoredEvent.parse({ event: e, rx: RX });
export const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export { prng };

const ODD_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  -0,
  1.5,
  100.01,
  2 ** 53,
  1e400,
  '',
  'a',
  'A',
  'piha',
  'bad name',
  'x'.repeat(65),
  'x'.repeat(161),
  'x'.repeat(501),
  'probe_failed',
  'Probe',
  'warn',
  'high',
  'low',
  '/',
  [],
  [{}],
  {},
  { name: 'c', state: 'running' },
  '2026-03-01T10:00:00Z',
  '2026-03-01T10:00:00.1Z',
  '2026-03-01T10:00:00+02:00',
  '2026-03-01T10:00:00',
  '2026-02-29T00:00:00Z',
  '2024-02-29T00:00:00Z',
  '2000-02-29T00:00:00Z',
  '1900-02-29T00:00:00Z',
  '2026-04-31T00:00:00Z',
  '2026-12-31T23:59:59.999Z',
  '2026-13-01T00:00:00Z',
  '2026-01-01T24:00:00Z',
  'service_healthy',
  'service_unhealthy',
  'node_online',
  'disk_ok',
  'unknown_type',
];

/** Paths to every value inside a record (objects and arrays), for mutations. */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof v !== 'object' || v === null) return [prefix];
  const out: (string | number)[][] = prefix.length ? [prefix] : [];
  for (const k of Array.isArray(v) ? v.keys() : Object.keys(v)) out.push(...paths((v as Record<string | number, unknown>)[k], [...prefix, k]));
  return out;
}

export function mutate(rec: unknown, rnd: () => number): unknown {
  const v = clone(rec) as Record<string, unknown>;
  const all = paths(v);
  const p = all[Math.floor(rnd() * all.length)]!;
  const parent = p.slice(0, -1).reduce<any>((o, k) => o[k], v);
  const key = p[p.length - 1]!;
  const r = rnd();
  if (r < 0.6) parent[key] = ODD_VALUES[Math.floor(rnd() * ODD_VALUES.length)];
  else if (r < 0.75) delete parent[key];
  else if (r < 0.85 && !Array.isArray(parent)) parent.extra = 1;
  else if (!Array.isArray(parent)) {
    // Same content, keys in another order.
    const entries = Object.entries(parent).reverse();
    for (const [k] of entries) delete parent[k];
    for (const [k, val] of entries) parent[k] = val;
  }
  return v;
}

/** Timestamps the codecs must accept exactly when zod's IsoTime does: valid ones, edge dates, and near misses. */
export const TIMESTAMP_CASES: readonly string[] = [
  '2026-03-01T10:00:00.000Z',
  '2026-12-31T23:59:59.999Z',
  '2024-02-29T00:00:00.000Z',
  '2000-02-29T12:00:00.000Z',
  '2026-04-30T00:00:00.000Z',
  '2026-01-31T00:00:00.000Z',
  '2026-03-01T10:00:00Z',
  '2026-03-01T10:00:00.5Z',
  '2026-03-01T10:00:00.123456Z',
  '2026-02-29T00:00:00.000Z',
  '1900-02-29T00:00:00.000Z',
  '2026-04-31T00:00:00.000Z',
  '2026-06-31T00:00:00.000Z',
  '2026-01-45T00:00:00.000Z',
  '2026-01-32T00:00:00.000Z',
  '2026-00-10T00:00:00.000Z',
  '2026-13-10T00:00:00.000Z',
  '2026-01-00T00:00:00.000Z',
  '2026-01-01T24:00:00.000Z',
  '2026-01-01T23:60:00.000Z',
  '2026-01-01T23:00:60.000Z',
  'x026-01-01T00:00:00.000Z',
  '2026-01-01 00:00:00.000Z',
  '2026-01-01T00:00:00.000z',
  '2026-01-01T00:00:00.00aZ',
  '2026-01-01T00:00:00+00:00',
  '2026-1-01T00:00:00.0000Z',
  '2026-01-01T00:00:00.000+00:00',
  '2026-1-01T00:00:00.000Z',
  '',
  '2026-01-01',
];
