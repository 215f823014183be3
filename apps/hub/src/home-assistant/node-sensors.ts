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
 * Every node sensor published to Home Assistant, declared once: a new one
 * (CPU temperature, memory, …) is one more entry here, and its discovery
 * config and its value in `nodes/<node>/state` follow.
 */
export const NODE_SENSORS: readonly NodeSensorSource[] = [diskUsage];

/** The sensors of one node, from every source. */
export function nodeSensors(node: WorldNode): NodeSensor[] {
  return NODE_SENSORS.flatMap((source) => source(node));
}
