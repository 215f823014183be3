import { describe, expect, it } from 'vitest';
import { HA_CONFIG_SCHEMAS, NodeStateMessage, topics, type HaComponent } from '@homelab/contracts';
import { action, healthy, host, T0, unhealthy, world, worldNode } from '../supervisor/test-fixtures';
import { discoveryMessages, type DiscoveryInput } from './discovery';

const input = (over: Partial<DiscoveryInput> = {}): DiscoveryInput => ({
  discoveryPrefix: 'homeassistant',
  approveButtons: false,
  desired: { piha: host('piha', { zigbee2mqtt: {}, mosquitto: {}, backup: { monitor: false } }), 'chelsty-ha': host('chelsty-ha', {}) },
  world: world(
    [
      worldNode('piha', {
        disks: {
          '/': { mount: '/', level: 'ok', usedPercent: 41.5, since: T0 },
          '/var/lib/docker': { mount: '/var/lib/docker', level: 'warn', usedPercent: 83, since: T0 },
        },
      }),
      worldNode('chelsty-ha', { online: false }),
    ],
    [unhealthy('piha', 'zigbee2mqtt', 'containers_not_running'), healthy('piha', 'mosquitto')],
  ),
  pending: [action('container-restart-piha-zigbee2mqtt'), action('redeploy-piha-mosquitto', { createdAt: '2026-11-26T14:30:00.000Z' })],
  ...over,
});

const configs = (i: DiscoveryInput) => discoveryMessages(i).filter((m) => m.component !== undefined);
const byTopic = (i: DiscoveryInput) => new Map(discoveryMessages(i).map((m) => [m.topic, m.payload as Record<string, unknown>]));

describe('Home Assistant discovery payloads', () => {
  const all = configs(input({ approveButtons: true }));

  it.each(all.map((m) => [m.topic, m] as const))('%s has only the fields HA documents for its platform', (_topic, m) => {
    const res = HA_CONFIG_SCHEMAS[m.component as HaComponent].safeParse(m.payload);
    expect(res.error?.issues ?? []).toEqual([]);
  });

  it('refuses a payload with a field HA does not document for that platform (the schemas are strict)', () => {
    const sensor = all.find((m) => m.component === 'sensor')!;
    expect(HA_CONFIG_SCHEMAS.sensor.safeParse({ ...sensor.payload, payload_press: 'x' }).success).toBe(false);
    expect(HA_CONFIG_SCHEMAS.binary_sensor.safeParse({ ...all[0]!.payload, state_topic: undefined }).success).toBe(false);
    expect(HA_CONFIG_SCHEMAS.button.safeParse({ unique_id: 'x', name: 'x' }).success).toBe(false);
  });

  it('puts every config at <prefix>/<component>/<node_id>/<object_id>/config with a unique, stable unique_id', () => {
    for (const m of all) expect(m.topic).toMatch(/^homeassistant\/(binary_sensor|sensor|button)\/homelab_[a-z0-9_-]+\/[a-zA-Z0-9_-]+\/config$/);
    const ids = all.map((m) => (m.payload as { unique_id: string }).unique_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(configs(input({ approveButtons: true }))).toEqual(all);
  });

  it('gives each monitored service of hosts/ a problem binary_sensor of its node device, its state topic giving the reason as attribute', () => {
    const z2m = byTopic(input()).get('homeassistant/binary_sensor/homelab_piha/zigbee2mqtt_problem/config')!;
    expect(z2m).toMatchObject({
      device_class: 'problem',
      unique_id: 'homelab_piha_zigbee2mqtt_problem',
      state_topic: topics.serviceState('piha', 'zigbee2mqtt'),
      json_attributes_topic: topics.serviceState('piha', 'zigbee2mqtt'),
      device: { identifiers: ['homelab_piha'], name: 'piha' },
      availability: [{ topic: topics.nodeState('piha') }],
    });
    expect(byTopic(input()).has('homeassistant/binary_sensor/homelab_piha/backup_problem/config')).toBe(false);
  });

  it('gives each node a connectivity binary_sensor and a disk usage sensor per mount, read from its state topic', () => {
    const m = byTopic(input());
    expect(m.get('homeassistant/binary_sensor/homelab_chelsty-ha/connectivity/config')).toMatchObject({
      device_class: 'connectivity',
      state_topic: topics.nodeState('chelsty-ha'),
    });
    expect(m.get('homeassistant/sensor/homelab_piha/disk_var_lib_docker/config')).toMatchObject({ unit_of_measurement: '%', name: 'Disk /var/lib/docker' });
    const state = NodeStateMessage.parse(m.get(topics.nodeState('piha')));
    expect(state).toEqual({ node: 'piha', online: true, since: T0, sensors: { disk_root: 41.5, disk_var_lib_docker: 83 } });
    expect(NodeStateMessage.parse(m.get(topics.nodeState('chelsty-ha'))).online).toBe(false);
  });

  it('gives a node a sensor per host figure its heartbeat reports, and none for a figure it does not', () => {
    const pi = worldNode('piha', { metrics: { cpuTempC: 61.2, memAvailableMb: 812, memUsedPercent: 58, uptimeSec: 86_400, load1: 0.4 } });
    const i = input({ world: world([pi, worldNode('chelsty-ha', { online: false })], []) });
    const m = byTopic(i);
    expect(m.get('homeassistant/sensor/homelab_piha/cpu_temperature/config')).toMatchObject({
      name: 'CPU temperature',
      unit_of_measurement: '°C',
      device_class: 'temperature',
      unique_id: 'homelab_piha_cpu_temperature',
      state_topic: topics.nodeState('piha'),
    });
    expect(m.get('homeassistant/sensor/homelab_piha/memory_available/config')).toMatchObject({ unit_of_measurement: 'MB', device_class: 'data_size' });
    expect(m.has('homeassistant/sensor/homelab_piha/cpu_used/config')).toBe(false); // not in this heartbeat
    expect(NodeStateMessage.parse(m.get(topics.nodeState('piha'))).sensors).toEqual({
      cpu_temperature: 61.2,
      load_1m: 0.4,
      memory_used: 58,
      memory_available: 812,
      uptime: 86_400,
    });
    for (const c of configs(i)) expect(HA_CONFIG_SCHEMAS[c.component as HaComponent].safeParse(c.payload).error?.issues ?? []).toEqual([]);
  });

  it('offers no Approve button unless the operator enabled them', () => {
    expect(configs(input()).filter((m) => m.component === 'button')).toEqual([]);
  });

  it('makes an Approve button per pending action whose press names the action and its creation', () => {
    const buttons = all.filter((m) => m.component === 'button');
    expect(buttons.map((b) => b.topic)).toEqual([
      'homeassistant/button/homelab_piha/approve_container-restart-piha-zigbee2mqtt/config',
      'homeassistant/button/homelab_piha/approve_redeploy-piha-mosquitto/config',
    ]);
    expect(buttons[1]!.payload).toMatchObject({
      command_topic: 'homelab/v1/ha/approve',
      payload_press: JSON.stringify({ actionId: 'redeploy-piha-mosquitto', createdAt: '2026-11-26T14:30:00.000Z' }),
    });
  });

  it('drops the config of a service that left hosts/ and follows the discovery prefix', () => {
    const without = input({ discoveryPrefix: 'ha/disc', desired: { piha: host('piha', { mosquitto: {} }) } });
    const topicsNow = configs(without).map((m) => m.topic);
    expect(topicsNow).toContain('ha/disc/binary_sensor/homelab_piha/mosquitto_problem/config');
    expect(topicsNow.some((t) => t.includes('zigbee2mqtt'))).toBe(false);
  });
});
