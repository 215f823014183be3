import { describe, expect, it } from 'vitest';
import { ManualClock, type HostServicesFile } from '@homelab/contracts';
import { createLogger } from '@homelab/logging';
import { action, host, T0, world, worldNode } from '../supervisor/test-fixtures';
import { HaPublisher } from './ha-publisher';

const log = createLogger('test', { level: 'silent' });

function setup(opts: { approveButtons?: boolean } = {}) {
  const out: { topic: string; payload: string }[] = [];
  const state = {
    desired: { piha: host('piha', { zigbee2mqtt: {}, mosquitto: {} }) } as Record<string, HostServicesFile> | null,
    pending: [action('container-restart-piha-zigbee2mqtt')],
    linkDown: false,
  };
  const publisher = new HaPublisher({
    discoveryPrefix: 'homeassistant',
    approveButtons: opts.approveButtons ?? false,
    world: () => world([worldNode('piha')], []),
    desired: () => state.desired,
    pending: async () => state.pending,
    publish: async (topic, payload) => {
      if (state.linkDown) throw new Error('link down');
      out.push({ topic, payload });
    },
    clock: new ManualClock(new Date(T0)),
    log,
  });
  return { out, state, publisher };
}

describe('HaPublisher', () => {
  it('publishes nothing until desired state is loaded (it would remove every service)', async () => {
    const { out, state, publisher } = setup();
    state.desired = null;
    expect(await publisher.runOnce()).toBe(0);
    expect(out).toEqual([]);
  });

  it('publishes every config once, then only what changed', async () => {
    const { out, publisher } = setup();
    const first = await publisher.runOnce();
    expect(first).toBe(out.length);
    expect(out.map((m) => m.topic)).toContain('homeassistant/binary_sensor/homelab_piha/zigbee2mqtt_problem/config');
    expect(await publisher.runOnce()).toBe(0);
  });

  it('removes the config of a service deleted from services.yaml with an empty retained payload', async () => {
    const { out, state, publisher } = setup();
    await publisher.runOnce();
    out.length = 0;
    state.desired = { piha: host('piha', { mosquitto: {} }) };
    await publisher.runOnce();
    expect(out).toEqual([{ topic: 'homeassistant/binary_sensor/homelab_piha/zigbee2mqtt_problem/config', payload: '' }]);
  });

  it('removes the Approve button of an action that is no longer pending', async () => {
    const { out, state, publisher } = setup({ approveButtons: true });
    await publisher.runOnce();
    const button = 'homeassistant/button/homelab_piha/approve_container-restart-piha-zigbee2mqtt/config';
    expect(out.some((m) => m.topic === button && m.payload !== '')).toBe(true);
    out.length = 0;
    state.pending = [];
    await publisher.runOnce();
    expect(out).toEqual([{ topic: button, payload: '' }]);
  });

  it("publishes everything again after Home Assistant's birth, although nothing changed", async () => {
    const { out, publisher } = setup();
    const first = await publisher.runOnce();
    out.length = 0;
    publisher.birth();
    expect(await publisher.runOnce()).toBe(first);
    expect(await publisher.runOnce()).toBe(0);
  });

  it('sends everything again on the next cycle when a publish after a birth failed', async () => {
    const { out, state, publisher } = setup();
    const first = await publisher.runOnce();
    state.linkDown = true;
    publisher.birth();
    await expect(publisher.runOnce()).rejects.toThrow('link down');
    state.linkDown = false;
    out.length = 0;
    expect(await publisher.runOnce()).toBe(first);
  });

  it("removes a config of its own the broker still held from before the start, and leaves everybody else's alone", async () => {
    const { out, publisher } = setup();
    const stale = 'homeassistant/binary_sensor/homelab_piha/gone_problem/config';
    const kept = 'homeassistant/binary_sensor/homelab_piha/mosquitto_problem/config';
    publisher.seen(stale, Buffer.from('{"name":"gone"}'));
    publisher.seen('homeassistant/sensor/0x00158d0001/temperature/config', Buffer.from('{"name":"zigbee"}'));
    publisher.seen('homeassistant/binary_sensor/homelab_piha/emptied/config', Buffer.alloc(0));
    await publisher.runOnce();
    expect(out.filter((m) => m.payload === '')).toEqual([{ topic: stale, payload: '' }]);
    expect(out.some((m) => m.topic === kept && m.payload !== '')).toBe(true);
    // Its own config echoed back changes nothing.
    out.length = 0;
    publisher.seen(kept, Buffer.from('{"other":1}'));
    expect(await publisher.runOnce()).toBe(0);
  });
});
