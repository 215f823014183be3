import { describe, expect, it } from 'vitest';
import { HUB_STREAM, emptyWorld, type HomelabEvent, type World } from '@homelab/contracts';
import { fold, PROBLEM_IDS_HEAD, PROBLEM_IDS_MAX } from './fold';
import { at, ev, stored } from './test-events';

// A variable, not `.constructor`: TypeScript would type that as Object's Function.
const CTOR: string = 'constructor';

type Step = HomelabEvent | [stream: string, event: HomelabEvent];

function run(steps: Step[], aliases: Record<string, string> = {}): World {
  const world = emptyWorld();
  for (const s of steps) {
    const [stream, e] = Array.isArray(s) ? s : [undefined, s];
    fold(world, stored(e), { aliases }, stream);
  }
  return world;
}
const hub = (e: HomelabEvent): Step => [HUB_STREAM, e];

describe('fold: services', () => {
  const cases: { name: string; steps: Step[]; expect: Record<string, unknown> }[] = [
    {
      name: 'first healthy event creates the service, since = its ts',
      steps: [ev.healthy('piha', 1, 'z2m')],
      expect: { status: 'healthy', since: at(1), lastSeq: 1, lastEventId: 'piha-1', lastSeen: at(1), problemEventIds: [] },
    },
    {
      name: 'healthy heartbeats keep since',
      steps: [ev.healthy('piha', 1, 'z2m'), ev.healthy('piha', 2, 'z2m', { heartbeat: true }), ev.healthy('piha', 3, 'z2m', { heartbeat: true })],
      expect: { status: 'healthy', since: at(1), lastSeq: 3 },
    },
    {
      name: 'unhealthy opens an occurrence with reason, detail and its event id',
      steps: [ev.healthy('piha', 1, 'z2m'), ev.unhealthy('piha', 2, 'z2m', 'probe_failed', 'HTTP 500')],
      expect: { status: 'unhealthy', since: at(2), reason: 'probe_failed', detail: 'HTTP 500', problemEventIds: ['piha-2'] },
    },
    {
      name: 'a change of reason keeps since and shows the latest reason; detail follows the latest event',
      steps: [ev.unhealthy('piha', 1, 'z2m', 'probe_failed', 'HTTP 500'), ev.unhealthy('piha', 2, 'z2m', 'restart_loop')],
      expect: { status: 'unhealthy', since: at(1), reason: 'restart_loop', detail: undefined, problemEventIds: ['piha-1', 'piha-2'] },
    },
    {
      name: 'recovered clears reason and problem ids; since = first healthy event after the problem',
      steps: [ev.unhealthy('piha', 1, 'z2m', 'probe_failed', 'x'), ev.recovered('piha', 2, 'z2m'), ev.healthy('piha', 3, 'z2m', { heartbeat: true })],
      expect: { status: 'healthy', since: at(2), reason: undefined, detail: undefined, problemEventIds: [] },
    },
    {
      name: 'a probe verdict names the failing probe; recovery clears it',
      steps: [
        { id: 'piha-1', node: 'piha', seq: 1, ts: at(1), type: 'service_unhealthy', service: 'z2m', data: { reason: 'mqtt_unreachable', probe: 'broker' } },
      ],
      expect: { status: 'unhealthy', reason: 'mqtt_unreachable', probe: 'broker' },
    },
    {
      name: 'recovery clears the failing probe',
      steps: [
        { id: 'piha-1', node: 'piha', seq: 1, ts: at(1), type: 'service_unhealthy', service: 'z2m', data: { reason: 'probe_failed', probe: 'web' } },
        ev.healthy('piha', 2, 'z2m'),
      ],
      expect: { status: 'healthy', reason: undefined, probe: undefined },
    },
    {
      name: 'starting (no verdict yet) is its own status: no reason, no problem ids, since = its first event',
      steps: [ev.starting('piha', 1, 'z2m'), ev.starting('piha', 2, 'z2m')],
      expect: { status: 'starting', since: at(1), lastSeq: 2, reason: undefined, problemEventIds: [] },
    },
    {
      name: 'unhealthy → starting ends the occurrence (a recreated container in its start period)',
      steps: [ev.unhealthy('piha', 1, 'z2m', 'container_unhealthy', 'x'), ev.starting('piha', 2, 'z2m')],
      expect: { status: 'starting', since: at(2), reason: undefined, detail: undefined, problemEventIds: [] },
    },
    {
      name: 'starting → healthy: since moves to the verdict',
      steps: [ev.starting('piha', 1, 'z2m'), ev.healthy('piha', 2, 'z2m')],
      expect: { status: 'healthy', since: at(2) },
    },
    {
      name: 'aliases map the event node to the canonical node',
      steps: [ev.healthy('node-1', 1, 'z2m')],
      expect: { node: 'piha', service: 'z2m' },
    },
  ];
  it.each(cases)('$name', ({ steps, expect: want }) => {
    const world = run(steps, { 'node-1': 'piha' });
    const svc = world.services[Object.keys(world.services)[0]!]!;
    for (const [k, v] of Object.entries(want)) expect(svc[k as keyof typeof svc], k).toEqual(v);
  });

  it(`caps problem ids at ${PROBLEM_IDS_MAX}: the first ${PROBLEM_IDS_HEAD} and the latest ones`, () => {
    const world = run(Array.from({ length: 120 }, (_, i) => ev.unhealthy('piha', i + 1, 'z2m')));
    const ids = world.services['piha/z2m']!.problemEventIds;
    expect(ids).toHaveLength(PROBLEM_IDS_MAX);
    expect(ids.slice(0, PROBLEM_IDS_HEAD)).toEqual(Array.from({ length: PROBLEM_IDS_HEAD }, (_, i) => `piha-${i + 1}`));
    expect(ids.slice(PROBLEM_IDS_HEAD)).toEqual(
      Array.from({ length: PROBLEM_IDS_MAX - PROBLEM_IDS_HEAD }, (_, i) => `piha-${120 - (PROBLEM_IDS_MAX - PROBLEM_IDS_HEAD) + i + 1}`),
    );
  });
});

describe('fold: nodes', () => {
  const cases: { name: string; steps: Step[]; expect: Record<string, unknown> }[] = [
    {
      name: 'disk pressure sets the mount level; since moves only when the level changes',
      steps: [ev.disk('piha', 1, '/', 'warn', 85), ev.disk('piha', 2, '/', 'warn', 87), ev.disk('piha', 3, '/', 'high', 96)],
      expect: { disks: { '/': { mount: '/', level: 'high', usedPercent: 96, since: at(3) } } },
    },
    {
      name: 'disk_ok resolves the mount',
      steps: [ev.disk('piha', 1, '/', 'high'), ev.disk('piha', 2, '/', 'ok', 40)],
      expect: { disks: { '/': { mount: '/', level: 'ok', usedPercent: 40, since: at(2) } } },
    },
    {
      name: 'heartbeat sets metrics, lastSeen and lastSeq',
      steps: [ev.heartbeat('piha', 4, { uptimeSec: 100, load1: 0.5 })],
      expect: { metrics: { uptimeSec: 100, load1: 0.5 }, lastSeen: at(4), lastSeq: 4, online: null },
    },
    {
      name: 'inventory: the latest node_inventory replaces the unmanaged containers',
      steps: [
        { id: 'piha-1', node: 'piha', seq: 1, ts: at(1), type: 'node_inventory', data: { unmanaged: [{ name: 'old', state: 'exited' }], truncated: true } },
        {
          id: 'piha-2',
          node: 'piha',
          seq: 2,
          ts: at(2),
          type: 'node_inventory',
          data: { unmanaged: [{ name: 'portainer', state: 'running', image: 'portainer' }] },
        },
      ],
      expect: { unmanaged: [{ name: 'portainer', state: 'running', image: 'portainer' }], unmanagedTruncated: undefined, lastSeq: 2 },
    },
    {
      name: 'inventory: what adopt drafts from (compose labels, healthcheck, opt-out) is kept in the world',
      steps: [
        {
          id: 'piha-1',
          node: 'piha',
          seq: 1,
          ts: at(1),
          type: 'node_inventory',
          data: {
            unmanaged: [
              { name: 'agent', state: 'running', adopt: false },
              {
                name: 'web',
                state: 'running',
                healthcheck: true,
                compose: { project: 'site', service: 'web', configFile: '/opt/stacks/site/docker-compose.yml' },
              },
            ],
          },
        },
      ],
      expect: {
        unmanaged: [
          { name: 'agent', state: 'running', adopt: false },
          { name: 'web', state: 'running', healthcheck: true, compose: { project: 'site', service: 'web', configFile: '/opt/stacks/site/docker-compose.yml' } },
        ],
        lastSeq: 1,
      },
    },
    {
      name: 'inventory: one that follows a complete scan records it; a later one without a scan keeps it',
      steps: [ev.inventory('piha', 1), ev.inventory('piha', 2, { session: 3, desiredRevision: 'r1', sessionFromSeq: 2 }), ev.inventory('piha', 3)],
      expect: { inventory: { session: 3, desiredRevision: 'r1', sessionFromSeq: 2 }, lastSeq: 3 },
    },
    {
      name: 'inventory: the scan of a new desired state or session replaces the previous one',
      steps: [
        ev.inventory('piha', 1, { session: 3, desiredRevision: 'r1', sessionFromSeq: 1 }),
        ev.inventory('piha', 9, { session: 4, desiredRevision: 'r2', sessionFromSeq: 9 }),
      ],
      expect: { inventory: { session: 4, desiredRevision: 'r2', sessionFromSeq: 9 } },
    },
    {
      name: 'inventory: none until a scan is reported',
      steps: [hub(ev.status('piha', 1, true, 3)), ev.inventory('piha', 1), ev.healthy('piha', 2, 'z2m')],
      expect: { inventory: undefined, session: 3 },
    },
    {
      name: 'docker reachability follows the latest event',
      steps: [ev.docker('piha', 1, false), ev.docker('piha', 2, true), ev.docker('piha', 3, false)],
      expect: { dockerReachable: false },
    },
    {
      name: 'hub status: online, then the will of the same session → offline',
      steps: [hub(ev.status('piha', 1, true, 3)), hub(ev.status('piha', 2, false, 3))],
      expect: { online: false, session: 3, statusSince: at(2), lastSeen: null, lastSeq: null },
    },
    {
      name: 'hub status: a late will of an older session does not take a reconnected node offline',
      steps: [hub(ev.status('piha', 1, true, 4)), hub(ev.status('piha', 2, false, 3))],
      expect: { online: true, session: 4, statusSince: at(1) },
    },
    {
      name: 'hub status: within a session offline wins over a later online',
      steps: [hub(ev.status('piha', 1, false, 4)), hub(ev.status('piha', 2, true, 4))],
      expect: { online: false, session: 4, statusSince: at(1) },
    },
    {
      name: 'hub status: a new session comes back online',
      steps: [hub(ev.status('piha', 1, false, 4)), hub(ev.status('piha', 2, true, 5))],
      expect: { online: true, session: 5, statusSince: at(2) },
    },
    {
      name: 'hub status: after a network blip the next connection of the same session comes back online over the will',
      steps: [hub(ev.status('piha', 1, true, 4, 1)), hub(ev.status('piha', 2, false, 4, 1)), hub(ev.status('piha', 3, true, 4, 2))],
      expect: { online: true, session: 4, connection: 2, statusSince: at(3) },
    },
    {
      name: 'hub status: the will of a dropped connection arriving after the next birth does not take the node offline',
      steps: [hub(ev.status('piha', 1, true, 4, 1)), hub(ev.status('piha', 2, true, 4, 2)), hub(ev.status('piha', 3, false, 4, 1))],
      expect: { online: true, session: 4, connection: 2, statusSince: at(2) },
    },
    {
      name: 'hub status: within one connection offline still wins over a later online',
      steps: [hub(ev.status('piha', 1, false, 4, 2)), hub(ev.status('piha', 2, true, 4, 2))],
      expect: { online: false, session: 4, connection: 2, statusSince: at(1) },
    },
    {
      name: 'hub status: the clean offline of the current connection takes the node offline',
      steps: [hub(ev.status('piha', 1, true, 4, 3)), hub(ev.status('piha', 2, false, 4, 3))],
      expect: { online: false, session: 4, connection: 3, statusSince: at(2) },
    },
    {
      name: 'hub status: a new session wins over a higher connection of an older one, and forgets that connection',
      steps: [hub(ev.status('piha', 1, true, 4, 9)), hub(ev.status('piha', 2, true, 5))],
      expect: { online: true, session: 5, connection: undefined, statusSince: at(2) },
    },
    {
      name: 'hub status: an older connection of the same session is ignored, online or offline',
      steps: [hub(ev.status('piha', 1, true, 4, 3)), hub(ev.status('piha', 2, false, 4, 2)), hub(ev.status('piha', 3, true, 4, 1))],
      expect: { online: true, session: 4, connection: 3, statusSince: at(1) },
    },
    {
      name: 'status events in an agent stream do not change the status (it comes from the status topic)',
      steps: [hub(ev.status('piha', 1, true, 1)), ['piha', { ...ev.status('piha', 7, false, 9), id: 'piha-7' }]],
      expect: { online: true, session: 1, lastSeq: 7 },
    },
    {
      name: 'a birth announcing a backlog records how far the node must catch up, also within the same session',
      steps: [
        hub(ev.status('piha', 1, true, 2)),
        hub({ id: 'hub-2', node: 'piha', seq: 2, ts: at(2), type: 'node_online', data: { session: 2, backlogUntilSeq: 500, backlogEvents: 480 } }),
        hub({ id: 'hub-3', node: 'piha', seq: 3, ts: at(3), type: 'node_online', data: { session: 2, backlogUntilSeq: 300 } }),
      ],
      expect: { online: true, session: 2, backlogUntilSeq: 500, statusSince: at(1) },
    },
    {
      name: 'events dropped by the agent outbox add up',
      steps: [
        { id: 'piha-1', node: 'piha', seq: 1, ts: at(1), type: 'events_dropped', data: { count: 10, reason: 'outbox_full' } },
        { id: 'piha-2', node: 'piha', seq: 2, ts: at(2), type: 'events_dropped', data: { count: 5, reason: 'outbox_full' } },
      ],
      expect: { droppedEvents: 15, lastSeq: 2 },
    },
  ];
  it.each(cases)('$name', ({ steps, expect: want }) => {
    const node = run(steps).nodes.piha!;
    for (const [k, v] of Object.entries(want)) expect(node[k as keyof typeof node], k).toEqual(v);
  });
});

describe('fold: idempotence and safety', () => {
  it('event already folded → world unchanged (same object, same content)', () => {
    const world = run([ev.unhealthy('piha', 1, 'z2m'), ev.unhealthy('piha', 2, 'z2m'), hub(ev.status('piha', 1, true, 1))]);
    const before = structuredClone(world);
    expect(fold(world, stored(ev.unhealthy('piha', 2, 'z2m', 'other')), { aliases: {} })).toBe(world);
    fold(world, stored(ev.healthy('piha', 1, 'z2m')), { aliases: {} });
    fold(world, stored(ev.status('piha', 1, false, 1)), { aliases: {} }, HUB_STREAM);
    expect(world).toEqual(before);
  });

  it('tracks the hub stream seq apart from node seqs', () => {
    const world = run([ev.heartbeat('piha', 5), hub(ev.status('piha', 2, true, 1)), ev.heartbeat('chelsty-ha', 1)]);
    expect(world.folded).toEqual({ piha: 5, [HUB_STREAM]: 2, 'chelsty-ha': 1 });
  });

  it('does not depend on how streams interleave', () => {
    const a = [ev.unhealthy('piha', 1, 'z2m'), ev.disk('piha', 2, '/', 'high'), ev.recovered('piha', 3, 'z2m')];
    const h = [hub(ev.status('piha', 1, true, 1)), hub(ev.status('piha', 2, false, 1)), hub(ev.status('piha', 3, true, 2))];
    const b = [ev.heartbeat('chelsty-ha', 1), ev.docker('chelsty-ha', 2, false)];
    const one = run([...a, ...h, ...b]);
    const two = run([b[0]!, h[0]!, a[0]!, a[1]!, h[1]!, b[1]!, h[2]!, a[2]!]);
    expect(two).toEqual(one);
  });

  it('orders by seq as folded, whatever the ts says (skewed or backwards agent clocks)', () => {
    const world = run([ev.unhealthy('piha', 1, 'z2m', 'probe_failed', undefined, at(600)), ev.healthy('piha', 2, 'z2m', { ts: at(-600) })]);
    expect(world.services['piha/z2m']).toMatchObject({ status: 'healthy', since: at(-600), lastSeq: 2 });
  });

  it('keeps names that collide with Object.prototype as plain data', () => {
    const world = run([ev.heartbeat('constructor', 1), ev.disk('constructor', 2, '/constructor', 'high'), ev.disk('constructor', 3, '/__proto__', 'high')]);
    expect(Object.keys(world.nodes)).toEqual(['constructor']);
    expect(Object.keys(world.nodes[CTOR]!.disks)).toEqual(['/constructor', '/__proto__']);
    expect(Object.getPrototypeOf(world.nodes[CTOR]!.disks)).toBe(Object.prototype);
    expect(world.nodes[CTOR]!.lastSeq).toBe(3);
  });
});

describe('fold: events are read-only', () => {
  const deepFreeze = <T>(v: T): T => {
    if (typeof v === 'object' && v !== null) {
      for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
      Object.freeze(v);
    }
    return v;
  };

  it('folds frozen events without changing them, so replay may share one parsed data object between events', () => {
    const containers = [{ name: 'z2m-1', state: 'running' }];
    const steps: Step[] = [
      hub(ev.status('piha', 1, true, 1)),
      { ...ev.healthy('piha', 1, 'z2m'), data: { containers, heartbeat: true } } as HomelabEvent,
      { ...ev.healthy('piha', 2, 'z2m'), data: { containers, heartbeat: true } } as HomelabEvent,
      ev.unhealthy('piha', 3, 'z2m', 'probe_failed', 'HTTP 500'),
      ev.recovered('piha', 4, 'z2m'),
      ev.disk('piha', 5, '/', 'high'),
      ev.disk('piha', 6, '/', 'ok'),
      ev.heartbeat('piha', 7, { uptimeSec: 5, load1: 0.5 }),
      ev.docker('piha', 8, false),
      hub(ev.status('piha', 2, false, 1)),
    ];
    const frozen = deepFreeze(steps);
    const before = JSON.stringify(frozen);
    expect(() => run(frozen)).not.toThrow();
    expect(JSON.stringify(frozen)).toBe(before);
    expect(run(frozen)).toEqual(run(JSON.parse(before) as Step[]));
  });
});
