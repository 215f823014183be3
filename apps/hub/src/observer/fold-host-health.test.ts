import { describe, expect, it } from 'vitest';
import { emptyWorld, HomelabEvent, NodeHeartbeatEvent } from '@homelab/contracts';
import { isCanonicalEvent } from '@homelab/event-log';
import { fold } from './fold';
import { at, stored } from './test-events';

const heartbeat = (seq: number, data?: Record<string, unknown>) => ({
  id: `piha-${seq}`,
  node: 'piha',
  seq,
  ts: at(seq),
  type: 'node_heartbeat',
  ...(data ? { data } : {}),
});

describe('host health in heartbeats (docs/host-health.md)', () => {
  it.each([
    { name: 'an older agent without host health', data: { uptimeSec: 10, load1: 0.1, memUsedPercent: 20, services: 3 }, ok: true },
    { name: 'a Raspberry Pi', data: { uptimeSec: 10, load1: 0.1, agentRssMb: 44, cpuTempC: 61.5, memAvailableMb: 2900, throttled: 0x50005 }, ok: true },
    { name: 'a temperature below absolute zero', data: { cpuTempC: -300 }, ok: false },
    { name: 'throttling bits that are not an integer', data: { throttled: 1.5 }, ok: false },
    { name: 'negative memory available', data: { memAvailableMb: -1 }, ok: false },
  ])('$name: valid = $ok, for zod and the log’s fast check alike', ({ data, ok }) => {
    const e = heartbeat(1, data);
    expect(NodeHeartbeatEvent.safeParse(e).success).toBe(ok);
    expect(HomelabEvent.safeParse(e).success).toBe(ok);
    // The fast path vouches only for what zod accepts.
    if (!ok) expect(isCanonicalEvent(e)).toBe(false);
  });

  it('folds the latest heartbeat’s figures into the node’s metrics, replacing the previous ones', () => {
    const world = emptyWorld();
    fold(world, stored(HomelabEvent.parse(heartbeat(1, { cpuTempC: 70, throttled: 5, memAvailableMb: 100 }))), { aliases: {} });
    expect(world.nodes.piha!.metrics).toEqual({ cpuTempC: 70, throttled: 5, memAvailableMb: 100 });
    fold(world, stored(HomelabEvent.parse(heartbeat(2, { memAvailableMb: 120 }))), { aliases: {} });
    expect(world.nodes.piha!.metrics).toEqual({ memAvailableMb: 120 });
  });
});
