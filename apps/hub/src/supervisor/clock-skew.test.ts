import { describe, expect, it } from 'vitest';
import { CLOCK_SKEW_FINDING_MS, emptyWorld, type World, type WorldNode } from '@homelab/contracts';
import { clockSkewFindings, humanOffset } from './clock-skew';
import { reconcile } from './reconcile';

const H = 3_600_000;
const node = (name: string, clocks?: Record<string, number>): WorldNode => ({
  node: name,
  online: true,
  session: 1,
  statusSince: null,
  lastSeen: '2026-03-01T12:00:00.000Z',
  lastSeq: 1,
  dockerReachable: true,
  disks: {},
  ...(clocks ? { clocks: Object.fromEntries(Object.entries(clocks).map(([k, offsetMs]) => [k, { offsetMs, windows: [] }])) } : {}),
});
const nodes = (...ns: WorldNode[]) => new Map(ns.map((n) => [n.node, n]));

describe('clock_skew findings', () => {
  it.each([
    { name: 'no clock measured yet', n: node('piha'), want: [] },
    { name: 'in step', n: node('piha', { piha: 12 }), want: [] },
    { name: 'exactly at the threshold', n: node('piha', { piha: -CLOCK_SKEW_FINDING_MS }), want: [] },
    { name: 'just above it', n: node('piha', { piha: CLOCK_SKEW_FINDING_MS + 1 }), want: ["piha: its clock is 2.0 s ahead of the hub's (offset 2001 ms)"] },
    { name: '5 h ahead', n: node('piha', { piha: 5 * H - 4 }), want: ["piha: its clock is 5 h 0 min ahead of the hub's (offset 17999996 ms)"] },
    { name: '5 h behind', n: node('piha', { piha: -5 * H - 4 }), want: ["piha: its clock is 5 h 0 min behind the hub's (offset -18000004 ms)"] },
    {
      name: 'an aliased agent off, the node itself in step',
      n: node('piha', { piha: 3, 'node-x': -95_000 }),
      want: ["piha (events as node-x): its clock is 1 min 35 s behind the hub's (offset -95000 ms)"],
    },
  ])('$name', ({ n, want }) => {
    const found = clockSkewFindings(nodes(n));
    expect(found.map((f) => f.message.split(';')[0])).toEqual(want.map((w) => w.split(';')[0]));
    for (const f of found) expect(f).toMatchObject({ kind: 'clock_skew', node: 'piha' });
  });

  it('says the times are corrected and the clock wants fixing', () => {
    expect(clockSkewFindings(nodes(node('piha', { piha: 5 * H })))[0]!.message).toMatch(/times it reports are corrected, but fix its clock \(NTP\)$/);
  });

  it('is part of the supervisor plan while the offset holds, and gone once the clock is fixed', () => {
    const world = (offsetMs: number): World => ({ ...emptyWorld(), nodes: { piha: node('piha', { piha: offsetMs }) } });
    const plan = (offsetMs: number) =>
      reconcile({
        desired: { piha: { node: 'piha', services: {} } },
        world: world(offsetMs),
        actions: [],
        now: new Date('2026-03-01T12:00:00.000Z'),
        aliases: {},
      });
    expect(plan(5 * H).findings.filter((f) => f.kind === 'clock_skew')).toHaveLength(1);
    expect(plan(40).findings.filter((f) => f.kind === 'clock_skew')).toEqual([]);
  });

  it.each([
    [2500, '2.5 s'],
    [95_000, '1 min 35 s'],
    [5 * H, '5 h 0 min'],
    [5 * H + 30 * 60_000, '5 h 30 min'],
  ])('humanOffset(%i) = %s', (ms, text) => {
    expect(humanOffset(ms)).toBe(text);
  });
});
