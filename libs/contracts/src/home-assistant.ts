import { z } from 'zod';
import { channelsTo, TOPIC_PREFIX } from './channels';
import { filterOf } from './topics';
import { ActionId, IsoTime } from './names';

/**
 * Home Assistant's side of the wire (docs/home-assistant.md). HA's MQTT
 * integration reads entity configs below its discovery prefix
 * (`<prefix>/<component>/<node_id>/<object_id>/config`), announces itself on
 * `<prefix>/status` (birth `online`, last will `offline`), and sends what a
 * button press publishes. Entity states are the hub's retained `people`
 * channels of CHANNELS (`nodes/<node>/state`, `nodes/<node>/services/<service>/state`).
 */

/** HA's discovery prefix: plain topic levels, nothing a wildcard or our own tree. */
export const DiscoveryPrefix = z
  .string()
  .regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, 'must be topic levels of letters, digits, _ and -, separated by /')
  .refine((p) => p.split('/')[0] !== TOPIC_PREFIX.split('/')[0], `must not lie under ${TOPIC_PREFIX.split('/')[0]}/`);
export const DEFAULT_DISCOVERY_PREFIX = 'homeassistant';

/** HA's birth and last will on `<prefix>/status`: plain text, as HA sends it. */
export const HaBirthPayload = z.enum(['online', 'offline']);

/** What an Approve button publishes (its `payload_press`): the action and the version of it the button was made for. */
export const ApprovePress = z.strictObject({ actionId: ActionId, createdAt: IsoTime });
export type ApprovePress = z.infer<typeof ApprovePress>;

export type HaParty = 'hub' | 'homeassistant';

export interface HaChannelSpec {
  /** `discovery`: the pattern lies below the configurable discovery prefix; `homelab`: below TOPIC_PREFIX. */
  under: 'discovery' | 'homelab';
  /** Topic (or, for `discovery`, the filter of every such topic) below its root. */
  pattern: string;
  from: HaParty;
  /** Who reads it. */
  to: readonly HaParty[];
  qos: 0 | 1;
  retained: boolean;
  /** Granted only when the operator enables Approve buttons (HOMELAB_HA_APPROVE_BUTTONS). */
  approveButtonsOnly?: true;
}

/**
 * Home Assistant's channels, declared once: both brokers' ACLs for the hub and
 * the `homeassistant` role (haGrants) and the hub's subscriptions derive from
 * them, together with the `people` channels of CHANNELS that HA reads.
 */
export const HA_CHANNELS = {
  /**
   * One entity's discovery config (JSON, retained); an empty retained payload removes the entity.
   * The hub reads them too: at start it removes configs of its own it no longer makes (HaPublisher).
   */
  discovery: { under: 'discovery', pattern: '+/+/+/config', from: 'hub', to: ['homeassistant', 'hub'], qos: 1, retained: true },
  /** HA's birth (`online`) and last will (`offline`), plain text (HaBirthPayload). */
  birth: { under: 'discovery', pattern: 'status', from: 'homeassistant', to: ['hub'], qos: 1, retained: false },
  /** A press of an Approve button (ApprovePress). */
  approve: { under: 'homelab', pattern: 'ha/approve', from: 'homeassistant', to: ['hub'], qos: 1, retained: false, approveButtonsOnly: true },
} as const satisfies Record<string, HaChannelSpec>;
export type HaChannelName = keyof typeof HA_CHANNELS;

/** What the HA parts of the ACL depend on (hub settings; `homelab broker-config` flags). */
export interface HaAclOptions {
  discoveryPrefix: string;
  approveButtons: boolean;
}
export const DEFAULT_HA_ACL: HaAclOptions = { discoveryPrefix: DEFAULT_DISCOVERY_PREFIX, approveButtons: false };

/** The topic (or filter) of an HA channel under these options. */
export function haTopic(channel: HaChannelName, opts: Pick<HaAclOptions, 'discoveryPrefix'>): string {
  const spec: HaChannelSpec = HA_CHANNELS[channel];
  return `${spec.under === 'discovery' ? opts.discoveryPrefix : TOPIC_PREFIX}/${spec.pattern}`;
}

/** The discovery config topic of one entity (docs/home-assistant.md). */
export function discoveryTopic(prefix: string, component: HaComponent, nodeId: string, objectId: string): string {
  return `${prefix}/${component}/${nodeId}/${objectId}/config`;
}

const HA_CHANNEL_NAMES = Object.keys(HA_CHANNELS) as HaChannelName[];
const granted = (c: HaChannelName, opts: HaAclOptions) => !(HA_CHANNELS[c] as HaChannelSpec).approveButtonsOnly || opts.approveButtons;

/**
 * Topic filters a party may publish and subscribe to for Home Assistant, on
 * both brokers. The hub: its HA channels (its rights under TOPIC_PREFIX are
 * ROLE_SCOPES). HA: its birth (and presses, when enabled); it reads its whole
 * discovery prefix (it subscribes to `<prefix>/#`) and the `people` channels.
 */
export function haGrants(party: HaParty, opts: HaAclOptions): { publish: string[]; subscribe: string[] } {
  const publish = HA_CHANNEL_NAMES.filter((c) => HA_CHANNELS[c].from === party && granted(c, opts)).map((c) => haTopic(c, opts));
  const subscribe = HA_CHANNEL_NAMES.filter((c) => (HA_CHANNELS[c].to as readonly HaParty[]).includes(party) && granted(c, opts)).map((c) => haTopic(c, opts));
  if (party === 'homeassistant') return { publish, subscribe: [`${opts.discoveryPrefix}/#`, ...channelsTo('people').map(filterOf)] };
  return { publish, subscribe };
}

// ---- Discovery payloads: the fields HA's MQTT integration documents, per platform (docs/home-assistant.md). ----

export const HaComponent = z.enum(['binary_sensor', 'sensor', 'button']);
export type HaComponent = z.infer<typeof HaComponent>;

/** `device`: ties entities into HA's device registry (one device per node). */
export const HaDevice = z.strictObject({
  identifiers: z.array(z.string().min(1)).min(1),
  name: z.string().min(1).optional(),
  manufacturer: z.string().optional(),
  model: z.string().optional(),
  model_id: z.string().optional(),
  sw_version: z.string().optional(),
  hw_version: z.string().optional(),
  serial_number: z.string().optional(),
  suggested_area: z.string().optional(),
  configuration_url: z.string().optional(),
  via_device: z.string().optional(),
  connections: z.array(z.tuple([z.string(), z.string()])).optional(),
});

/** One entry of `availability`. */
export const HaAvailability = z.strictObject({
  topic: z.string().min(1),
  payload_available: z.string().optional(),
  payload_not_available: z.string().optional(),
  value_template: z.string().optional(),
});

/** `origin`: who published the discovery config. */
export const HaOrigin = z.strictObject({ name: z.string().min(1), sw_version: z.string().optional(), support_url: z.string().optional() });

/** Fields every MQTT entity platform documents. */
const entityFields = {
  name: z.string().nullable().optional(),
  unique_id: z.string().min(1),
  default_entity_id: z.string().optional(),
  device: HaDevice.optional(),
  origin: HaOrigin.optional(),
  availability: z.array(HaAvailability).optional(),
  availability_mode: z.enum(['all', 'any', 'latest']).optional(),
  availability_topic: z.string().optional(),
  availability_template: z.string().optional(),
  payload_available: z.string().optional(),
  payload_not_available: z.string().optional(),
  json_attributes_topic: z.string().optional(),
  json_attributes_template: z.string().optional(),
  entity_category: z.enum(['config', 'diagnostic']).optional(),
  enabled_by_default: z.boolean().optional(),
  icon: z.string().optional(),
  entity_picture: z.string().optional(),
  qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
  encoding: z.string().optional(),
};

/** `binary_sensor` (device classes: HA's binary sensor documentation). */
export const HaBinarySensorConfig = z.strictObject({
  ...entityFields,
  state_topic: z.string().min(1),
  device_class: z
    .enum([
      'battery',
      'battery_charging',
      'carbon_monoxide',
      'cold',
      'connectivity',
      'door',
      'garage_door',
      'gas',
      'heat',
      'light',
      'lock',
      'moisture',
      'motion',
      'moving',
      'occupancy',
      'opening',
      'plug',
      'power',
      'presence',
      'problem',
      'running',
      'safety',
      'smoke',
      'sound',
      'tamper',
      'update',
      'vibration',
      'window',
    ])
    .optional(),
  value_template: z.string().optional(),
  payload_on: z.string().optional(),
  payload_off: z.string().optional(),
  expire_after: z.number().int().positive().optional(),
  force_update: z.boolean().optional(),
  off_delay: z.number().int().positive().optional(),
});

/** `sensor`. */
export const HaSensorConfig = z.strictObject({
  ...entityFields,
  state_topic: z.string().min(1),
  device_class: z.string().optional(),
  state_class: z.enum(['measurement', 'measurement_angle', 'total', 'total_increasing']).optional(),
  unit_of_measurement: z.string().optional(),
  suggested_display_precision: z.number().int().nonnegative().optional(),
  value_template: z.string().optional(),
  last_reset_value_template: z.string().optional(),
  options: z.array(z.string()).optional(),
  expire_after: z.number().int().positive().optional(),
  force_update: z.boolean().optional(),
});

/** `button`. */
export const HaButtonConfig = z.strictObject({
  ...entityFields,
  command_topic: z.string().min(1),
  command_template: z.string().optional(),
  payload_press: z.string().optional(),
  device_class: z.enum(['identify', 'restart', 'update']).optional(),
  retain: z.boolean().optional(),
});

export const HA_CONFIG_SCHEMAS = { binary_sensor: HaBinarySensorConfig, sensor: HaSensorConfig, button: HaButtonConfig } as const;
export type HaConfig = z.infer<(typeof HA_CONFIG_SCHEMAS)[HaComponent]>;
