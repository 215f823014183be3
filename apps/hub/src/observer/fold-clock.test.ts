import { describe, expect, it } from 'vitest';
import { emptyWorld, type HomelabEvent, type World } from '@homelab/contracts';
import { fold } from './fold';
import { ev, stored } from './test-events';

const H = 3_600_000;
const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();

/** An event the node stamped `aheadMs` off the hub's clock, received by the hub at T0 + rxMs (5 ms transit). */
function skewed(e: HomelabEvent, rxMs: number, aheadMs: number): [HomelabEvent, string] {
  return [{ ...e, ts: iso(rxMs - 5 + aheadMs) }, iso(rxMs)];
}

function run(steps: [HomelabEvent, string][], aliases: Record<string, string> = {}): World {
  const world = emptyWorld();
  for (const [e, rx] of steps) fold(world, stored(e, rx), { aliases });
  return world;
}

describe('fold: times of a node whose clock is skewed are in the hub time', () => {
  it.each([
    { way: '5 h ahead', aheadMs: 5 * H },
    { way: '5 h behind', aheadMs: -5 * H },
    { way: '3 s ahead', aheadMs: 3000 },
  ])('a node $way: since of a service and a disk is when the hub got the event, and the offset is measured', ({ aheadMs }) => {
    const world = run([
      skewed(ev.heartbeat('piha', 1), 0, aheadMs),
      skewed(ev.healthy('piha', 2, 'z2m'), 30_000, aheadMs),
      skewed(ev.unhealthy('piha', 3, 'z2m'), 60_000, aheadMs),
      skewed(ev.disk('piha', 4, '/', 'high'), 61_000, aheadMs),
    ]);
    expect(world.nodes.piha!.clocks).toEqual({ piha: expect.objectContaining({ offsetMs: aheadMs - 5 }) });
    expect(world.services['piha/z2m']).toMatchObject({ status: 'unhealthy', since: iso(60_000), lastSeen: iso(60_000) });
    expect(world.nodes.piha!.disks['/']!.since).toBe(iso(61_000));
  });

  it('keeps since of an occurrence that went on through a clock fix', () => {
    const world = run([skewed(ev.unhealthy('piha', 1, 'z2m'), 0, 5 * H), skewed(ev.unhealthy('piha', 2, 'z2m', 'restart_loop'), 120_000, 0)]);
    expect(world.services['piha/z2m']).toMatchObject({ since: iso(0), reason: 'restart_loop' });
  });

  it('dates a backlog delivered an hour late by when it happened, with the offset measured before the silence', () => {
    const world = run([
      skewed(ev.healthy('piha', 1, 'z2m'), 0, 5 * H),
      // Stopped 10 min later, while the hub was out of reach; delivered after an hour.
      [{ ...ev.unhealthy('piha', 2, 'z2m'), ts: iso(10 * 60_000 + 5 * H) }, iso(H)],
      skewed(ev.heartbeat('piha', 3), H + 10, 5 * H),
    ]);
    expect(world.services['piha/z2m']).toMatchObject({ status: 'unhealthy', since: iso(10 * 60_000 + 5) });
    expect(world.nodes.piha!.clocks!.piha!.offsetMs).toBe(5 * H - 5);
  });

  it('takes no sample from the repeats of service states, unless a repeat changes the status', () => {
    const repeat = (seq: number, status: 'healthy' | 'unhealthy'): HomelabEvent =>
      status === 'healthy'
        ? ev.healthy('piha', seq, 'z2m', { heartbeat: true })
        : ({ ...ev.unhealthy('piha', seq, 'z2m'), data: { reason: 'containers_not_running', heartbeat: true } } as HomelabEvent);
    const world = run([
      skewed(ev.healthy('piha', 1, 'z2m'), 0, 5 * H),
      // Repeats only confirm what is known: not sampled (this one would read 1 s further ahead).
      skewed(repeat(2, 'healthy'), 30_000, 5 * H + 1000),
      // The change to unhealthy was lost; this repeat carries it, and is sampled to date it.
      skewed(repeat(3, 'unhealthy'), 60_000, 5 * H + 20),
    ]);
    expect(world.nodes.piha!.clocks!.piha!.windows.map((w) => w[0])).toEqual([T0, T0 + 60_000]);
    expect(world.nodes.piha!.clocks!.piha!.offsetMs).toBe(5 * H + 15);
    expect(world.services['piha/z2m']).toMatchObject({ status: 'unhealthy', since: iso(60_000) });
  });

  it('measures each aliased agent on its own, whatever the interleaving of their streams', () => {
    const a = [skewed(ev.unhealthy('piha', 1, 'z2m'), 0, 5 * H), skewed(ev.heartbeat('piha', 2), 20_000, 5 * H)];
    const b = [skewed(ev.unhealthy('node-x', 1, 'mqtt'), 1000, -2 * H), skewed(ev.heartbeat('node-x', 2), 21_000, -2 * H)];
    const aliases = { 'node-x': 'piha' };
    const one = run([...a, ...b], aliases);
    const two = run([b[0]!, a[0]!, b[1]!, a[1]!], aliases);
    expect(two.services).toEqual(one.services);
    expect(two.nodes.piha!.clocks).toEqual(one.nodes.piha!.clocks);
    expect(one.nodes.piha!.clocks).toEqual({
      piha: expect.objectContaining({ offsetMs: 5 * H - 5 }),
      'node-x': expect.objectContaining({ offsetMs: -2 * H - 5 }),
    });
    expect(one.services['piha/z2m']!.since).toBe(iso(0));
    expect(one.services['piha/mqtt']!.since).toBe(iso(1000));
  });
});
