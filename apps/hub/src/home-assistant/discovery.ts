import {
  discoveryTopic,
  haTopic,
  topics,
  type Action,
  type HaComponent,
  type HaConfig,
  type HostServicesFile,
  type NodeStateMessage,
  type World,
  type WorldNode,
} from '@homelab/contracts';
import { nodeSensors } from './node-sensors';

/** What the discovery configs and node states are built from. */
export interface DiscoveryInput {
  discoveryPrefix: string;
  approveButtons: boolean;
  /** `hosts/<node>/services.yaml` by node. */
  desired: Record<string, HostServicesFile>;
  world: World;
  /** Pending actions (used only with approveButtons). */
  pending: readonly Action[];
}

/** One retained message the hub keeps on the broker for Home Assistant. */
export interface RetainedMessage {
  topic: string;
  payload: HaConfig | NodeStateMessage;
  /** The platform of a discovery config; absent for a node state. */
  component?: HaComponent;
}

/** Starts the `node_id` level of every discovery topic the hub publishes (and nobody else's, it assumes). */
export const NODE_ID_PREFIX = 'homelab_';

/** Device id and the `node_id` level of every discovery topic of a node: stable across restarts. */
export const nodeDeviceId = (node: string) => `${NODE_ID_PREFIX}${node}`;

const ORIGIN = { name: 'homelab' };

function device(node: string) {
  return { identifiers: [nodeDeviceId(node)], name: node, manufacturer: 'homelab', model: 'Docker host' };
}

/** Entities of a node other than its connectivity are unavailable while the node is not connected. */
function nodeAvailability(node: string) {
  return [{ topic: topics.nodeState(node), value_template: "{{ 'online' if value_json.online else 'offline' }}" }];
}

/** Nodes HA shows: every node of hosts/ and every node the world knows. */
function nodesOf(input: DiscoveryInput): string[] {
  return [...new Set([...Object.keys(input.desired), ...Object.keys(input.world.nodes)])].sort();
}

/** `nodes/<node>/state`: connectivity as the hub folded it, and the sensor values. */
export function nodeState(node: string, world: WorldNode | undefined): NodeStateMessage {
  const sensors: Record<string, number> = {};
  if (world) for (const s of nodeSensors(world)) if (s.value !== undefined) sensors[s.key] = s.value;
  return { node, online: world?.online ?? null, since: world?.statusSince ?? null, sensors };
}

/**
 * Every retained message Home Assistant discovery needs now (docs/home-assistant.md):
 * per node a device with a connectivity binary_sensor and its sensors
 * (NODE_SENSORS), per monitored service of hosts/ a `problem` binary_sensor
 * whose attributes are the service state (reason included), per pending action
 * an Approve button when enabled; and each node's state topic. Pure: the same
 * input gives the same messages, so unique ids and topics are stable across restarts.
 */
export function discoveryMessages(input: DiscoveryInput): RetainedMessage[] {
  const out: RetainedMessage[] = [];
  const { discoveryPrefix: prefix } = input;
  const config = (component: HaComponent, node: string, objectId: string, payload: HaConfig) =>
    out.push({ topic: discoveryTopic(prefix, component, nodeDeviceId(node), objectId), component, payload });

  for (const node of nodesOf(input)) {
    const worldNode = Object.hasOwn(input.world.nodes, node) ? input.world.nodes[node] : undefined;
    out.push({ topic: topics.nodeState(node), payload: nodeState(node, worldNode) });
    config('binary_sensor', node, 'connectivity', {
      name: 'Connectivity',
      unique_id: `${nodeDeviceId(node)}_connectivity`,
      device: device(node),
      origin: ORIGIN,
      device_class: 'connectivity',
      entity_category: 'diagnostic',
      state_topic: topics.nodeState(node),
      value_template: "{{ 'ON' if value_json.online else 'OFF' }}",
    });
    for (const s of worldNode ? nodeSensors(worldNode) : []) {
      config('sensor', node, s.key, {
        name: s.name,
        unique_id: `${nodeDeviceId(node)}_${s.key}`,
        device: device(node),
        origin: ORIGIN,
        availability: nodeAvailability(node),
        state_topic: topics.nodeState(node),
        // A value the node has not reported renders None: HA shows it as unknown.
        value_template: `{{ value_json.sensors.get('${s.key}') }}`,
        state_class: 'measurement',
        ...(s.unit ? { unit_of_measurement: s.unit } : {}),
        ...(s.deviceClass ? { device_class: s.deviceClass } : {}),
        ...(s.icon ? { icon: s.icon } : {}),
      });
    }
    const services = Object.hasOwn(input.desired, node) ? input.desired[node]!.services : {};
    for (const [service, spec] of Object.entries(services).sort(([a], [b]) => a.localeCompare(b))) {
      if (spec.monitor === false) continue;
      config('binary_sensor', node, `${service}_problem`, {
        name: service,
        unique_id: `${nodeDeviceId(node)}_${service}_problem`,
        device: device(node),
        origin: ORIGIN,
        availability: nodeAvailability(node),
        device_class: 'problem',
        state_topic: topics.serviceState(node, service),
        value_template: "{{ 'ON' if value_json.status == 'unhealthy' else 'OFF' }}",
        // status, reason and since of the service become the entity's attributes.
        json_attributes_topic: topics.serviceState(node, service),
      });
    }
  }
  if (input.approveButtons) {
    for (const action of [...input.pending].sort((a, b) => a.id.localeCompare(b.id))) {
      if (action.state !== 'pending') continue;
      config('button', action.node, `approve_${action.id}`, {
        name: `Approve ${action.type.replace(/_/g, ' ')}${action.service ? ` ${action.service}` : ''}`,
        unique_id: `${nodeDeviceId(action.node)}_approve_${action.id}`,
        device: device(action.node),
        origin: ORIGIN,
        icon: 'mdi:check-decagram',
        command_topic: haTopic('approve', input),
        // The press names the action and its creation: a later action reusing the id is not approved by an old button.
        payload_press: JSON.stringify({ actionId: action.id, createdAt: action.createdAt }),
        retain: false,
      });
    }
  }
  return out;
}
