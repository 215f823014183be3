import { describe, expect, it } from 'vitest';
import type { ActionStore } from '@homelab/action-store';
import { ManualClock, topics } from '@homelab/contracts';
import { createLogger } from '@homelab/logging';
import { host, NOW, world } from '../supervisor/test-fixtures';
import { homeAssistant } from './ha-part';

const part = (approveButtons = false) =>
  homeAssistant({
    ha: { discoveryPrefix: 'ha/disc', approveButtons },
    world: () => world([], []),
    desired: () => ({ piha: host('piha', {}) }),
    store: { list: async () => [] } as unknown as ActionStore,
    onDecision: () => undefined,
    publish: async () => undefined,
    clock: new ManualClock(NOW),
    log: createLogger('test', { level: 'silent' }),
    maxPayloadBytes: 4096,
  });

describe("the hub's Home Assistant part", () => {
  it('leaves every agent topic to ingest', () => {
    const ha = part();
    for (const t of [topics.events('piha'), topics.status('piha'), topics.results('piha'), 'homeassistant/status'])
      expect(ha.route(t, Buffer.from('{}'))).toBe(false);
  });

  it("counts HA's births and refuses a status that is neither online nor offline", () => {
    const ha = part();
    expect(ha.route('ha/disc/status', Buffer.from('online'))).toBe(true);
    expect(ha.route('ha/disc/status', Buffer.from('offline'))).toBe(true);
    expect(ha.route('ha/disc/status', Buffer.from('{"state":"online"}'))).toBe(true);
    expect(ha.counters()).toMatchObject({ births: 1, invalid: 1 });
  });

  it('subscribes the hub to the birth and the discovery configs, and to presses only with Approve buttons', () => {
    expect(part().subscriptions).toEqual(['ha/disc/+/+/+/config', 'ha/disc/status']);
    expect(part(true).subscriptions).toEqual(['ha/disc/+/+/+/config', 'ha/disc/status', 'homelab/v1/ha/approve']);
  });

  it('takes a discovery config under its prefix, its own or not', () => {
    expect(part().route('ha/disc/sensor/0x00158d/temperature/config', Buffer.from('{}'))).toBe(true);
  });
});
