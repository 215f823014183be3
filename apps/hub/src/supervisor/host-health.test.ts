import { describe, expect, it } from 'vitest';
import { HOST_TEMP_FINDING_C, throttleConditions, type WorldNode } from '@homelab/contracts';
import { hostHealthFindings } from './host-health';
import { reconcile } from './reconcile';

const node = (name: string, metrics?: Record<string, number>, online: boolean | null = true): WorldNode => ({
  node: name,
  online,
  session: 1,
  statusSince: null,
  lastSeen: '2026-03-01T12:00:00.000Z',
  lastSeq: 1,
  dockerReachable: true,
  disks: {},
  ...(metrics ? { metrics } : {}),
});
const nodes = (...ns: WorldNode[]) => new Map(ns.map((n) => [n.node, n]));

describe('host health findings', () => {
  it.each([
    { name: 'no heartbeat yet', n: node('piha'), want: [] },
    { name: 'a heartbeat without temperature or throttling (an older agent, a VM)', n: node('piha', { load1: 0.2 }), want: [] },
    { name: 'cool', n: node('piha', { cpuTempC: 52.1 }), want: [] },
    { name: 'just under the threshold', n: node('piha', { cpuTempC: 74.9 }), want: [] },
    { name: 'at the threshold', n: node('piha', { cpuTempC: 75 }), want: ['host_temperature piha: CPU at 75 °C (finding from 75 °C)'] },
    { name: 'hot', n: node('piha', { cpuTempC: 83.4 }), want: ['host_temperature piha: CPU at 83.4 °C (finding from 75 °C)'] },
    { name: 'hot but offline (stale figures)', n: node('piha', { cpuTempC: 90 }, false), want: [] },
    { name: 'throttled only since boot', n: node('piha', { throttled: 0x50000 }), want: [] },
    { name: 'under-voltage now', n: node('piha', { throttled: 0x50005 }), want: ['host_throttled piha: under-voltage, throttled now (get_throttled 0x50005)'] },
    {
      name: 'hot and at the soft limit',
      n: node('piha', { cpuTempC: 81, throttled: 0x8 }),
      want: ['host_temperature piha: CPU at 81 °C (finding from 75 °C)', 'host_throttled piha: soft temperature limit now (get_throttled 0x8)'],
    },
  ])('$name', ({ n, want }) => {
    const found = hostHealthFindings(nodes(n), HOST_TEMP_FINDING_C);
    expect(found.map((f) => `${f.kind} ${f.message.split(';')[0]}`)).toEqual(want);
    for (const f of found) expect(f.node).toBe('piha');
  });

  it('uses the configured threshold', () => {
    expect(hostHealthFindings(nodes(node('piha', { cpuTempC: 61 })), 60)).toHaveLength(1);
    expect(hostHealthFindings(nodes(node('piha', { cpuTempC: 61 })), 70)).toEqual([]);
  });

  it('lists nodes in name order', () => {
    const found = hostHealthFindings(nodes(node('zeta', { cpuTempC: 90 }), node('alpha', { cpuTempC: 90 })), 75);
    expect(found.map((f) => f.node)).toEqual(['alpha', 'zeta']);
  });

  it('reaches the supervisor plan, with the threshold it is given', () => {
    const world = { services: {}, nodes: { piha: node('piha', { cpuTempC: 70 }) } };
    const plan = (hostTempFindingC?: number) =>
      reconcile({ desired: {}, world, actions: [], now: new Date('2026-03-01T12:00:00Z'), aliases: {}, ...(hostTempFindingC ? { hostTempFindingC } : {}) });
    expect(plan().findings.filter((f) => f.kind === 'host_temperature')).toEqual([]);
    expect(plan(65).findings.filter((f) => f.kind === 'host_temperature')).toHaveLength(1);
  });
});

describe('throttle conditions', () => {
  it.each([
    { bits: 0, now: [], sinceBoot: [] },
    { bits: 0x1, now: ['under_voltage'], sinceBoot: [] },
    { bits: 0xf, now: ['under_voltage', 'frequency_capped', 'throttled', 'soft_temp_limit'], sinceBoot: [] },
    { bits: 0x50000, now: [], sinceBoot: ['under_voltage', 'throttled'] },
    { bits: 0x80000, now: [], sinceBoot: ['soft_temp_limit'] },
    { bits: 0xfffffff0, now: [], sinceBoot: ['under_voltage', 'frequency_capped', 'throttled', 'soft_temp_limit'] },
  ])('0x$bits', ({ bits, now, sinceBoot }) => {
    const c = throttleConditions(bits);
    expect(c.now.map((x) => x.key)).toEqual(now);
    expect(c.sinceBoot.map((x) => x.key)).toEqual(sinceBoot);
  });
});
