/**
 * Deterministic corpus of bad inbound MQTT messages for the malformed-payload
 * tests (docs/reliability.md, "Malformed input" and "Spoofing"): each case says what must become of it —
 * a counted ingest rejection reason, or a refusal by the broker before ingest.
 */
import { topics } from '@homelab/contracts';
import { prng } from '@homelab/testkit';

export type IngestReason = 'unknown_topic' | 'too_large' | 'not_json' | 'invalid_schema' | 'node_mismatch';
export type BrokerRefusal = 'refused_acl' | 'refused_size';
export type Outcome = IngestReason | BrokerRefusal;

export interface FuzzCase {
  label: string;
  topic: string;
  payload: Buffer;
  expect: Outcome;
}

const TS = '2026-01-02T03:04:05.000Z';

/** A valid service event of `node` (the shape agents send). */
export function validEvent(node: string, seq: number, type: 'service_healthy' | 'service_unhealthy' = 'service_unhealthy'): Record<string, unknown> {
  return type === 'service_unhealthy'
    ? {
        id: `${node}-${seq}`,
        node,
        seq,
        ts: TS,
        type,
        service: 'fuzz-svc',
        data: { reason: 'probe_failed', detail: 'fuzz', containers: [{ name: 'fuzz-c', state: 'exited' }] },
      }
    : { id: `${node}-${seq}`, node, seq, ts: TS, type, service: 'fuzz-svc', data: { containers: [{ name: 'fuzz-c', state: 'running' }] } };
}

const MISSING = Symbol('missing');
type Mutation = [field: string, value: unknown];

/** Field values that the event schema refuses (each applied to an otherwise valid event). */
const MUTATIONS: Mutation[] = [
  ...['5', -1, 1.5, 2 ** 53, 1e300, null, true, [], {}, MISSING].map((v): Mutation => ['seq', v]),
  ...[0, '', 'x'.repeat(161), null, ['a'], MISSING].map((v): Mutation => ['id', v]),
  ...['', 'A', '../x', 'a/b', '+', '#', '-lead', 'x'.repeat(64), 5, null, MISSING].map((v): Mutation => ['node', v]),
  ...['', 'yesterday', '2026-13-01T00:00:00Z', '2026-01-01', '2026-01-01T25:00:00Z', 0, null, MISSING].map((v): Mutation => ['ts', v]),
  ...['nope', '', 5, null, 'SERVICE_HEALTHY', 'service_healthy ', MISSING].map((v): Mutation => ['type', v]),
  ...['', 'Bad', '../etc', 'a b', 5, null, 'x'.repeat(64), MISSING].map((v): Mutation => ['service', v]),
  ...[
    null,
    'x',
    5,
    [],
    MISSING,
    { reason: 5 },
    { reason: 'Bad Reason' },
    { reason: '' },
    { reason: 'probe_failed', detail: 'x'.repeat(501) },
    { reason: 'probe_failed', detail: 7 },
    { reason: 'probe_failed', containers: 'x' },
    { reason: 'probe_failed', containers: [{ name: '-bad', state: 'running' }] },
    { reason: 'probe_failed', containers: [{ name: 'ok', state: 'x'.repeat(33) }] },
    { reason: 'probe_failed', containers: [{ name: 'ok', state: 'running', restartCount: -1 }] },
    { reason: 'probe_failed', containers: Array.from({ length: 65 }, (_, i) => ({ name: `c${i}`, state: 'running' })) },
    { reason: 'probe_failed', heartbeat: 'yes' },
  ].map((v): Mutation => ['data', v]),
  ...[-1, 'x', 1.5, null].map((v): Mutation => ['prevSeq', v]),
];

/** Other event types with values out of range. */
function otherTypeInvalid(node: string, seq: number): Array<Record<string, unknown>> {
  const base = { id: `${node}-${seq}`, node, seq, ts: TS };
  return [
    { ...base, type: 'disk_pressure', data: { mount: '/', level: 'extreme', usedPercent: 99 } },
    { ...base, type: 'disk_pressure', data: { mount: '/', level: 'high', usedPercent: 101 } },
    { ...base, type: 'disk_ok', data: { mount: '/', usedPercent: -1 } },
    { ...base, type: 'events_dropped', data: { count: 0 } },
    { ...base, type: 'docker_unreachable', data: { detail: 'x'.repeat(501) } },
    { ...base, type: 'node_heartbeat', data: { memUsedPercent: 200 } },
  ];
}

function mutate(ev: Record<string, unknown>, [field, value]: Mutation): Record<string, unknown> {
  const out = { ...ev };
  if (value === MISSING) delete out[field];
  else out[field] = value;
  return out;
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

/** Byte strings that are not UTF-8: stray continuation bytes, overlong forms, surrogates, 0xFE/0xFF, truncated sequences. */
const BAD_UTF8: number[][] = [
  [0xff],
  [0xfe, 0xff],
  [0x80],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xc3],
  [0xe2, 0x82],
  [0xf4, 0x90, 0x80, 0x80],
];

/**
 * Payloads a node may publish on its own topics that ingest must reject.
 * `node` is the publishing identity; `other` a different valid node name.
 */
export function ingestCases(node: string, other: string, count: number, seed = 1): FuzzCase[] {
  const rnd = prng(seed);
  const ev = topics.events(node);
  const st = topics.status(node);
  const rs = topics.results(node);
  const out: FuzzCase[] = [];
  let seq = 1_000_000;
  const push = (label: string, topic: string, payload: Buffer, expect: Outcome) => out.push({ label, topic, payload, expect });

  // Fixed shapes first (each once), then the generated bulk up to `count`.
  const topLevel: Array<[string, unknown]> = [
    ['null', null],
    ['zero', 0],
    ['string', 'str'],
    ['true', true],
    ['empty array', []],
    ['array of number', [1]],
    ['array of null', [null]],
    ['array of empty object', [{}]],
    ['empty object', {}],
  ];
  for (const [label, v] of topLevel) push(`top-level ${label}`, ev, json(v), 'invalid_schema');
  push('batch of 1001 valid events (max 1000)', ev, json(Array.from({ length: 1001 }, () => validEvent(node, seq++))), 'invalid_schema');
  push('batch with one invalid event', ev, json([validEvent(node, seq++), mutate(validEvent(node, seq++), ['seq', -1])]), 'invalid_schema');
  push('batch with one event of another node', ev, json([validEvent(node, seq++), validEvent(other, seq++)]), 'node_mismatch');
  push('empty payload on events', ev, Buffer.alloc(0), 'not_json');
  for (const [i, bytes] of BAD_UTF8.entries()) push(`invalid UTF-8 alone #${i}`, ev, Buffer.from(bytes), 'not_json');
  // Deep nesting (well under the 256 KiB limit): parsers with recursion limits must not crash the hub.
  for (const depth of [1_000, 10_000, 100_000]) {
    push(`array nested ${depth} deep`, ev, Buffer.from('['.repeat(depth) + ']'.repeat(depth)), 'invalid_schema');
    push(
      `object nested ${Math.floor(depth / 3)} deep`,
      ev,
      Buffer.from('{"a":'.repeat(Math.floor(depth / 3)) + '1' + '}'.repeat(Math.floor(depth / 3))),
      'invalid_schema',
    );
    push(
      `event with service nested ${depth} deep`,
      ev,
      Buffer.from(JSON.stringify(validEvent(node, seq++)).replace('"fuzz-svc"', '['.repeat(depth) + ']'.repeat(depth))),
      'invalid_schema',
    );
    push(`unterminated nesting ${depth}`, ev, Buffer.from('['.repeat(depth)), 'not_json');
  }
  for (const t of otherTypeInvalid(node, seq++)) push(`invalid ${String(t.type)}`, ev, json(t), 'invalid_schema');
  push('status with bad state', st, json({ node, state: 'sideways', session: 1 }), 'invalid_schema');
  push('status not json', st, Buffer.from('online'), 'not_json');
  push('status of another node', st, json({ node: other, state: 'online', session: 1 }), 'node_mismatch');
  push(
    'result of another node',
    rs,
    json({ actionId: 'container-restart-x-y', node: other, status: 'completed', startedAt: TS, finishedAt: TS, output: '' }),
    'node_mismatch',
  );
  push('result with bad action id', rs, json({ actionId: '../x', node, status: 'completed', startedAt: TS, finishedAt: TS, output: '' }), 'invalid_schema');

  const garbage = (n: number) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
    // Make sure it is not accidentally JSON: start with a byte JSON never starts with.
    b[0] = 0x01;
    return b;
  };
  const kinds = [
    () => push('random bytes', ev, garbage(1 + Math.floor(rnd() * 2000)), 'not_json'),
    () => push('plain text', ev, Buffer.from(`service ${Math.floor(rnd() * 1e6)} is down`), 'not_json'),
    () => {
      const s = JSON.stringify(validEvent(node, seq++));
      push('truncated JSON', ev, Buffer.from(s.slice(0, 1 + Math.floor(rnd() * (s.length - 2)))), 'not_json');
    },
    () => {
      const s = JSON.stringify(validEvent(node, seq++));
      const at = 1 + Math.floor(rnd() * (s.length - 2));
      const bad = BAD_UTF8[Math.floor(rnd() * BAD_UTF8.length)]!;
      // Invalid bytes between JSON tokens (outside strings) break the syntax.
      push(
        'invalid UTF-8 spliced into JSON',
        ev,
        Buffer.concat([Buffer.from(s.slice(0, at)), Buffer.from([0x01, ...bad]), Buffer.from(s.slice(at))]),
        'not_json',
      );
    },
    () => {
      const m = MUTATIONS[Math.floor(rnd() * MUTATIONS.length)]!;
      const type = rnd() < 0.5 ? 'service_healthy' : 'service_unhealthy';
      // service_healthy has optional data: only data values invalid for both shapes.
      const mm: Mutation =
        type === 'service_healthy' &&
        m[0] === 'data' &&
        (m[1] === MISSING || (typeof m[1] === 'object' && m[1] !== null && !Array.isArray(m[1]) && !('containers' in m[1]) && !('heartbeat' in m[1])))
          ? ['data', 'x']
          : m;
      push(
        `wrong type: ${mm[0]}=${typeof mm[1] === 'symbol' ? 'missing' : JSON.stringify(mm[1])?.slice(0, 40)}`,
        ev,
        json(mutate(validEvent(node, seq++, type), mm)),
        'invalid_schema',
      );
    },
    () => push('event of another node', ev, json(validEvent(other, seq++, rnd() < 0.5 ? 'service_healthy' : 'service_unhealthy')), 'node_mismatch'),
    () => push('status garbage', st, json({ node, state: 'online', session: -Math.floor(rnd() * 100) - 1 }), 'invalid_schema'),
    () =>
      push('status of another node', st, json({ node: other, state: rnd() < 0.5 ? 'online' : 'offline', session: Math.floor(rnd() * 100) }), 'node_mismatch'),
    () =>
      push(
        'result garbage',
        rs,
        json({ actionId: 'container-restart-a-b', node, status: 'maybe', startedAt: TS, finishedAt: TS, output: '' }),
        'invalid_schema',
      ),
    () =>
      push(
        'result of another node',
        rs,
        json({ actionId: 'container-restart-a-b', node: other, status: 'failed', startedAt: TS, finishedAt: TS, output: 'x' }),
        'node_mismatch',
      ),
  ];
  // Weights: mostly events (the hot path), some status and results.
  const weights = [12, 8, 10, 8, 30, 14, 4, 4, 5, 5];
  const sum = weights.reduce((a, b) => a + b, 0);
  while (out.length < count) {
    let r = rnd() * sum;
    let k = 0;
    while ((r -= weights[k]!) > 0) k++;
    kinds[k]!();
  }
  return out.slice(0, count);
}

/**
 * Messages the embedded broker refuses before ingest (and which disconnect the
 * sender): payloads above the packet limit, another node's topics, topics
 * outside what a node may publish.
 */
export function brokerRefusedCases(nodeOf: (k: number) => string, victim: string, maxPayloadBytes: number): Array<FuzzCase & { node: string }> {
  const out: Array<FuzzCase & { node: string }> = [];
  let k = 0;
  const add = (label: string, topicFor: (n: string) => string, payload: Buffer, expect: BrokerRefusal) => {
    const node = nodeOf(k++);
    out.push({ label, node, topic: topicFor(node), payload, expect });
  };
  for (const size of [maxPayloadBytes + 1, 300 * 1024, 1024 * 1024, 4 * 1024 * 1024]) {
    for (let i = 0; i < 5; i++) add(`oversize ${size} bytes`, (n) => topics.events(n), Buffer.alloc(size, 0x61), 'refused_size');
  }
  const ev = (n: string) => JSON.stringify(validEvent(n, 1));
  for (let i = 0; i < 40; i++) add('events on another node’s topic', () => topics.events(victim), Buffer.from(ev(victim)), 'refused_acl');
  for (let i = 0; i < 20; i++)
    add(
      'status on another node’s topic',
      () => topics.status(victim),
      Buffer.from(JSON.stringify({ node: victim, state: 'offline', session: 999 })),
      'refused_acl',
    );
  for (let i = 0; i < 20; i++) add('results on another node’s topic', () => topics.results(victim), Buffer.from('{}'), 'refused_acl');
  const unknown = [
    (n: string) => `homelab/v1/nodes/${n}/commands`,
    (n: string) => `homelab/v1/nodes/${n}/desired`,
    (n: string) => `homelab/v1/nodes/${n}/acks`,
    (n: string) => `homelab/v1/nodes/${n}/services/x/state`,
    (n: string) => `homelab/v1/nodes/${n}/events/extra`,
    () => 'homelab/v1/hub',
    () => 'homelab/v2/nodes/x/events',
    () => 'random/topic',
    () => '$SYS/broker/x',
    () => 'homelab/v1/nodes/UPPER/events',
  ];
  for (let i = 0; i < 100; i++) add('topic a node may not publish on', unknown[i % unknown.length]!, Buffer.from('{}'), 'refused_acl');
  return out;
}

/** For an external broker without ACLs: topics the hub subscribes to but cannot parse (bad node names). */
export function unknownTopicCases(count: number): FuzzCase[] {
  const names = ['UPPER', '-lead', 'trail-', 'a.b', 'x'.repeat(64), 'sp ace', 'ünï', '%2e%2e', '..', '_under'];
  return Array.from({ length: count }, (_, i) => {
    const n = names[i % names.length]!;
    const channel = (['events', 'status', 'results'] as const)[i % 3];
    return {
      label: `unknown topic node ${JSON.stringify(n)}`,
      topic: `homelab/v1/nodes/${n}/${channel}`,
      payload: Buffer.from('{}'),
      expect: 'unknown_topic' as const,
    };
  });
}

/**
 * Otherwise valid events whose `detail` string carries bytes that are not
 * UTF-8. A lenient decoder turns them into U+FFFD and the event is stored
 * altered; the payload is not valid JSON text (RFC 8259 §8.1: UTF-8), so it
 * must be rejected like any other non-JSON payload.
 */
export function invalidUtf8InStringCases(node: string, count: number, firstSeq = 2_000_000): FuzzCase[] {
  return Array.from({ length: count }, (_, i) => {
    const s = JSON.stringify(validEvent(node, firstSeq + i));
    const [head, tail] = s.split('"detail":"fuzz"') as [string, string];
    const bad = BAD_UTF8[i % BAD_UTF8.length]!;
    const payload = Buffer.concat([Buffer.from(`${head}"detail":"fu`), Buffer.from(bad), Buffer.from(`zz"${tail}`)]);
    return { label: `invalid UTF-8 inside a string #${i % BAD_UTF8.length}`, topic: topics.events(node), payload, expect: 'not_json' as const };
  });
}
