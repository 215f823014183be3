import type { WorldNode } from '@homelab/contracts';

/** One numeric sensor of a node device in Home Assistant (docs/home-assistant.md). */
export interface NodeSensor {
  /** Key in `nodes/<node>/state`'s `sensors` and in the entity's ids (SensorKey). */
  key: string;
  name: string;
  unit?: string;
  /** HA sensor device class (e.g. `temperature`). */
  deviceClass?: string;
  icon?: string;
  /** The value now; undefined while the node has not reported it. */
  value: number | undefined;
}

/** A kind of node sensor: the sensors it gives for one node (none, one, or one per disk…). */
export type NodeSensorSource = (node: WorldNode) => NodeSensor[];

/** A disk mount as a key: `/` is `root`, `/var/lib/docker` is `var_lib_docker`. */
export function mountKey(mount: string): string {
  const slug = mount
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return slug === '' ? 'root' : slug.slice(0, 60);
}

/** Disk usage per mount the agent watches. */
const diskUsage: NodeSensorSource = (node) =>
  Object.entries(node.disks).map(([mount, disk]) => ({
    key: `disk_${mountKey(mount)}`,
    name: `Disk ${mount}`,
    unit: '%',
    icon: 'mdi:harddisk',
    value: disk.usedPercent,
  }));

/**
 * The host figures of the node's heartbeat (docs/host-health.md), each one
 * sensor once the node reports it: a Pi shows its temperature, a VM without a
 * sensor gets no temperature entity that would stay unknown forever.
 */
const HOST_FIGURES: readonly (Omit<NodeSensor, 'value'> & { field: string })[] = [
  { field: 'cpuTempC', key: 'cpu_temperature', name: 'CPU temperature', unit: '°C', deviceClass: 'temperature', icon: 'mdi:thermometer' },
  { field: 'cpuPercent', key: 'cpu_used', name: 'CPU used', unit: '%', icon: 'mdi:cpu-64-bit' },
  { field: 'load1', key: 'load_1m', name: 'Load (1 min)', icon: 'mdi:gauge' },
  { field: 'memUsedPercent', key: 'memory_used', name: 'Memory used', unit: '%', icon: 'mdi:memory' },
  { field: 'memAvailableMb', key: 'memory_available', name: 'Memory available', unit: 'MB', deviceClass: 'data_size', icon: 'mdi:memory' },
  { field: 'uptimeSec', key: 'uptime', name: 'Uptime', unit: 's', deviceClass: 'duration', icon: 'mdi:timer-outline' },
];

const hostHealth: NodeSensorSource = (node) =>
  HOST_FIGURES.flatMap(({ field, ...sensor }) => {
    const value = node.metrics?.[field];
    return value === undefined ? [] : [{ ...sensor, value }];
  });

/**
 * Every node sensor published to Home Assistant, declared once: a new one is
 * one more entry here, and its discovery config and its value in
 * `nodes/<node>/state` follow.
 */
export const NODE_SENSORS: readonly NodeSensorSource[] = [diskUsage, hostHealth];

/** The sensors of one node, from every source. */
export function nodeSensors(node: WorldNode): NodeSensor[] {
  return NODE_SENSORS.flatMap((source) => source(node));
}
