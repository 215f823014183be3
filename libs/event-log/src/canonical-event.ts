import {
  CONTAINER_KEYS,
  CONTAINER_NAME_PATTERN,
  EVENT_LAYOUT,
  MOUNT_PATH_FORBIDDEN,
  NAME_PATTERN,
  STORED_EVENT_KEYS,
  type HomelabEvent,
  type StoredEvent,
} from '@homelab/contracts';

/*
 * Fast path of the reader (replay reads millions of lines). zod validates a
 * line in about twice the time JSON.parse takes and copies every object; but
 * the lines FsEventLog writes are zod output already: keys in schema order,
 * nothing unknown. isCanonicalStoredEvent accepts a parsed value only when zod
 * would accept it AND return a deep copy of it with the same keys in the same
 * order — so the JSON.parse result can be used as is, and world files come
 * out byte-identical either way. Anything it is not sure about (another key
 * order, an unknown key, a rare event type, a non-UTC timestamp) returns
 * false and goes through zod, which decides. It must never accept more than
 * zod: line-codec.test.ts checks it against zod on valid and mutated records.
 */

/** Same as the contracts' UnhealthyReason. */
const REASON_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
/** A subset of zod's `z.iso.datetime({ offset: true })`: UTC (`Z`) only; the day is checked against its month below. */
const ISO_UTC = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?Z$/;

type Rec = Record<string, unknown>;

/**
 * Names repeat on nearly every line (nodes, services, containers): remember
 * the ones a pattern accepted rather than run the regex again. Bounded: a
 * full cache is emptied and refills.
 */
class PatternCache {
  private readonly ok = new Map<string, string>();
  constructor(private readonly pattern: RegExp) {}
  test(v: unknown): boolean {
    return typeof v === 'string' && this.intern(v) !== undefined;
  }
  /**
   * The first accepted string equal to `v`, or undefined when the pattern
   * rejects it. The fast line decoder hands that one instance out for every
   * line naming it, so the fold's lookups keyed by it skip re-hashing copies.
   */
  intern(v: string): string | undefined {
    const have = this.ok.get(v);
    if (have !== undefined) return have;
    if (!this.pattern.test(v)) return undefined;
    if (this.ok.size >= 4096) this.ok.clear();
    this.ok.set(v, v);
    return v;
  }
}
export const names = new PatternCache(NAME_PATTERN);
const containerNames = new PatternCache(CONTAINER_NAME_PATTERN);
const reasons = new PatternCache(REASON_PATTERN);

const isObj = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, max: number): boolean => typeof v === 'string' && v.length <= max;
export const name = (v: unknown): boolean => names.test(v);
const uint = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const nonneg = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;
/** Same as the contracts' MountPath (absolute, no control characters). */
const mount = (v: unknown): boolean => str(v, 256) && (v as string).startsWith('/') && !MOUNT_PATH_FORBIDDEN.test(v as string);
const percent = (v: unknown): boolean => typeof v === 'number' && v >= 0 && v <= 100;
/** NodeHeartbeatEvent's cpuTempC range. */
const celsius = (v: unknown): boolean => typeof v === 'number' && v >= -100 && v <= 250;

export function isoTime(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  return v.length === 24 ? isoMillisAt(v, 0) : ISO_UTC.test(v) && dayInMonth(v, 0);
}

const digit = (s: string, i: number): boolean => {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
};
const two = (s: string, i: number): number => (s.charCodeAt(i) - 48) * 10 + s.charCodeAt(i + 1) - 48;

/**
 * isoTime of `s.slice(p, p + 24)` when that is in the one 24-character form
 * ISO_UTC matches, `YYYY-MM-DDTHH:MM:SS.mmmZ` (what `toISOString()` writes, so
 * every ts and rx in practice), by character codes and without the slice: the
 * regex costs about as much as the rest of a line's envelope.
 */
export function isoMillisAt(s: string, p: number): boolean {
  if (s.length < p + 24) return false;
  const digitsOk =
    digit(s, p) &&
    digit(s, p + 1) &&
    digit(s, p + 2) &&
    digit(s, p + 3) &&
    digit(s, p + 5) &&
    digit(s, p + 6) &&
    digit(s, p + 8) &&
    digit(s, p + 9) &&
    digit(s, p + 11) &&
    digit(s, p + 12) &&
    digit(s, p + 14) &&
    digit(s, p + 15) &&
    digit(s, p + 17) &&
    digit(s, p + 18) &&
    digit(s, p + 20) &&
    digit(s, p + 21) &&
    digit(s, p + 22);
  if (!digitsOk) return false;
  if (
    s.charCodeAt(p + 4) !== 0x2d ||
    s.charCodeAt(p + 7) !== 0x2d ||
    s.charCodeAt(p + 10) !== 0x54 ||
    s.charCodeAt(p + 13) !== 0x3a ||
    s.charCodeAt(p + 16) !== 0x3a ||
    s.charCodeAt(p + 19) !== 0x2e ||
    s.charCodeAt(p + 23) !== 0x5a
  ) {
    return false;
  }
  const month = two(s, p + 5);
  const day = two(s, p + 8);
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && two(s, p + 11) <= 23 && two(s, p + 14) <= 59 && two(s, p + 17) <= 59 && dayInMonth(s, p);
}

/** The day (two digits at p+8, already 01–31) exists in its month and year (p+5, p). */
function dayInMonth(s: string, p: number): boolean {
  const day = two(s, p + 8);
  if (day <= 28) return true;
  const month = two(s, p + 5);
  if (month !== 2) return day <= 30 || month === 1 || month === 3 || month === 5 || month === 7 || month === 8 || month === 10 || month === 12;
  if (day > 29) return false;
  const year = two(s, p) * 100 + two(s, p + 2);
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** True when the object's keys are all in `order`, in that order (zod outputs keys in schema order, and drops unknown ones). */
function keysIn(o: Rec, order: readonly string[]): boolean {
  let i = 0;
  for (const k in o) {
    while (i < order.length && order[i] !== k) i++;
    if (i === order.length) return false;
    i++;
  }
  return true;
}

/**
 * The keys of a layout (schema order, from libs/contracts event-layout.ts)
 * that this file checks. A key the schemas gain is not silently let through
 * unchecked: the module refuses to load until a check is added here, or the
 * key is left to zod (`leftToZod`: a value with it is not vouched for).
 */
function checked(order: readonly string[], validated: readonly string[], leftToZod: readonly string[] = []): readonly string[] {
  const unknown = order.filter((k) => !validated.includes(k) && !leftToZod.includes(k));
  if (unknown.length) throw new Error(`canonical-event.ts checks no ${unknown.join(', ')}: check it or leave it to zod`);
  return order.filter((k) => !leftToZod.includes(k));
}

const ENVELOPE = ['id', 'node', 'seq', 'ts', 'prevSeq', 'type'];
const STORED_KEYS = checked(STORED_EVENT_KEYS, ['event', 'rx']);
const EVENT_KEYS = checked(EVENT_LAYOUT.node_heartbeat.keys, [...ENVELOPE, 'data']);
const SERVICE_EVENT_KEYS = checked(EVENT_LAYOUT.service_healthy.keys, [...ENVELOPE, 'service', 'data']);
const HEALTH_KEYS = checked(EVENT_LAYOUT.service_healthy.data, ['containers', 'heartbeat']);
const UNHEALTHY_KEYS = checked(EVENT_LAYOUT.service_unhealthy.data, ['containers', 'heartbeat', 'reason', 'detail', 'probe']);
const CONTAINER_ORDER = checked(CONTAINER_KEYS, ['name', 'state', 'health', 'restartCount']);
const NODE_HEARTBEAT_KEYS = checked(EVENT_LAYOUT.node_heartbeat.data, [
  'uptimeSec',
  'load1',
  'memUsedPercent',
  'services',
  'cpuPercent',
  'load5',
  'load15',
  'agentRssMb',
  'cpuTempC',
  'memAvailableMb',
  'throttled',
]);
const DISK_PRESSURE_KEYS = checked(EVENT_LAYOUT.disk_pressure.data, ['mount', 'level', 'usedPercent', 'freeBytes']);
const DISK_OK_KEYS = checked(EVENT_LAYOUT.disk_ok.data, ['mount', 'usedPercent']);
// A birth with a `services` record is left to zod.
const NODE_ONLINE_KEYS = checked(EVENT_LAYOUT.node_online.data, ['session', 'connection', 'version', 'backlogUntilSeq', 'backlogEvents'], ['services']);
const NODE_OFFLINE_KEYS = checked(EVENT_LAYOUT.node_offline.data, ['session', 'connection', 'reason']);
function containers(v: unknown): boolean {
  if (v === undefined) return true;
  if (!Array.isArray(v) || v.length > 64) return false;
  for (const c of v as unknown[]) {
    if (!isObj(c) || !keysIn(c, CONTAINER_ORDER)) return false;
    if (!containerNames.test(c.name) || !str(c.state, 32)) return false;
    if (c.health !== undefined && !str(c.health, 32)) return false;
    if (c.restartCount !== undefined && !uint(c.restartCount)) return false;
  }
  return true;
}

function healthData(d: Rec, keys: readonly string[]): boolean {
  return keysIn(d, keys) && containers(d.containers) && (d.heartbeat === undefined || typeof d.heartbeat === 'boolean');
}

/** Data of each event type the fast path knows; the others (rare ones) always go through zod. */
export function eventData(type: string, d: unknown): boolean {
  switch (type) {
    case 'service_healthy':
    case 'service_recovered':
      return d === undefined || (isObj(d) && healthData(d, HEALTH_KEYS));
    case 'service_unhealthy':
      return (
        isObj(d) &&
        healthData(d, UNHEALTHY_KEYS) &&
        reasons.test(d.reason) &&
        (d.detail === undefined || str(d.detail, 500)) &&
        (d.probe === undefined || str(d.probe, 64))
      );
    case 'node_heartbeat':
      return (
        d === undefined ||
        (isObj(d) &&
          keysIn(d, NODE_HEARTBEAT_KEYS) &&
          (d.uptimeSec === undefined || nonneg(d.uptimeSec)) &&
          (d.load1 === undefined || nonneg(d.load1)) &&
          (d.memUsedPercent === undefined || percent(d.memUsedPercent)) &&
          (d.services === undefined || uint(d.services)) &&
          (d.cpuPercent === undefined || percent(d.cpuPercent)) &&
          (d.load5 === undefined || nonneg(d.load5)) &&
          (d.load15 === undefined || nonneg(d.load15)) &&
          (d.agentRssMb === undefined || nonneg(d.agentRssMb)) &&
          (d.cpuTempC === undefined || celsius(d.cpuTempC)) &&
          (d.memAvailableMb === undefined || nonneg(d.memAvailableMb)) &&
          (d.throttled === undefined || (uint(d.throttled) && (d.throttled as number) <= 0xffffffff)))
      );
    case 'disk_pressure':
      return (
        isObj(d) &&
        keysIn(d, DISK_PRESSURE_KEYS) &&
        mount(d.mount) &&
        (d.level === 'warn' || d.level === 'high') &&
        percent(d.usedPercent) &&
        (d.freeBytes === undefined || nonneg(d.freeBytes))
      );
    case 'disk_ok':
      return isObj(d) && keysIn(d, DISK_OK_KEYS) && mount(d.mount) && percent(d.usedPercent);
    case 'node_online':
      // A birth with a `services` record is left to zod.
      return (
        isObj(d) &&
        keysIn(d, NODE_ONLINE_KEYS) &&
        uint(d.session) &&
        (d.connection === undefined || uint(d.connection)) &&
        (d.version === undefined || str(d.version, 64)) &&
        (d.backlogUntilSeq === undefined || uint(d.backlogUntilSeq)) &&
        (d.backlogEvents === undefined || uint(d.backlogEvents))
      );
    case 'node_offline':
      return (
        isObj(d) &&
        keysIn(d, NODE_OFFLINE_KEYS) &&
        uint(d.session) &&
        (d.connection === undefined || uint(d.connection)) &&
        (d.reason === undefined || str(d.reason, 64))
      );
    default:
      return false;
  }
}

export const SERVICE_TYPES: ReadonlySet<string> = new Set(['service_healthy', 'service_recovered', 'service_unhealthy']);

/**
 * True only when `StoredEvent.parse(v)` would succeed and return a value
 * deep-equal to `v`, keys in the same order (see above). False means "ask zod".
 */
export function isCanonicalStoredEvent(v: unknown): v is StoredEvent {
  return isObj(v) && keysIn(v, STORED_KEYS) && isoTime(v.rx) && isCanonicalEvent(v.event);
}

/** The same for one event: true only when `HomelabEvent.parse(e)` would return a deep-equal copy of `e`. */
export function isCanonicalEvent(e: unknown): e is HomelabEvent {
  if (!isObj(e)) return false;
  const type = e.type;
  if (typeof type !== 'string') return false;
  const withService = SERVICE_TYPES.has(type);
  if (withService ? !name(e.service) || !keysIn(e, SERVICE_EVENT_KEYS) : !keysIn(e, EVENT_KEYS)) return false;
  const id = e.id;
  return (
    typeof id === 'string' &&
    id.length >= 1 &&
    id.length <= 160 &&
    name(e.node) &&
    uint(e.seq) &&
    isoTime(e.ts) &&
    (e.prevSeq === undefined || uint(e.prevSeq)) &&
    eventData(type, e.data)
  );
}
