import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
  DEFAULT_DISCOVERY_PREFIX,
  DiscoveryPrefix,
  HOST_TEMP_FINDING_C,
  readSettings,
  settingSource,
  settingsHelp,
  settingsObject,
  settingsOptions,
  settingsProblems,
  type SettingsFlags,
  type SettingsTable,
} from '@homelab/contracts';
import { HubError } from './errors';
import { NodeAliasMap } from './node-aliases';

const Port = z.coerce.number().int().min(0).max(65535);
/** A switch: `--allow-anonymous`, or the variable set to exactly `true`. */
export const Switch = z.preprocess((v) => v === true || v === 'true', z.boolean());

/**
 * Every setting of the hub, declared once (docs/configuration.md): HubConfig,
 * the options of `homelab hub`, its `--help` and the messages naming a wrong
 * value are derived from this table. Flags win over variables, variables over defaults.
 */
export const HUB_SETTINGS = {
  /** Data root (docs/architecture.md, "Data root"). */
  root: {
    flag: 'root',
    arg: '<dir>',
    env: 'HOMELAB_ROOT',
    type: z
      .string()
      .min(1)
      .transform((p) => path.resolve(p))
      .prefault('/opt/homelab'),
    help: 'data root',
  },
  /** Folder holding `<node>/services.yaml`. */
  hostsDir: {
    flag: 'hosts',
    arg: '<dir>',
    env: 'HOMELAB_HOSTS_DIR',
    defaultText: './hosts',
    type: z
      .string()
      .min(1)
      .transform((p) => path.resolve(p))
      .prefault('hosts'),
    help: 'desired state folder with <node>/services.yaml',
  },
  /** External broker; when absent the hub embeds aedes. */
  mqttUrl: {
    flag: 'mqtt-url',
    arg: '<url>',
    env: 'HOMELAB_MQTT_URL',
    type: z.url({ protocol: /^mqtts?$/, error: 'must be an mqtt:// or mqtts:// URL' }).optional(),
    help: 'use an external broker (e.g. Mosquitto) instead of the embedded one',
  },
  /** The hub's own identity on an external broker (`homelab nodes add homelab-hub --role hub`). */
  mqttUsername: { env: 'HOMELAB_MQTT_USERNAME', type: z.string().optional(), help: "the hub's user on an external broker", defaultText: 'homelab-hub' },
  mqttPassword: { env: 'HOMELAB_MQTT_PASSWORD', type: z.string().optional(), help: "the hub's password on an external broker (or --mqtt-password-file)" },
  /** Read into mqttPassword by resolveHubConfig; wins over HOMELAB_MQTT_PASSWORD. */
  mqttPasswordFile: {
    flag: 'mqtt-password-file',
    arg: '<file>',
    env: 'HOMELAB_MQTT_PASSWORD_FILE',
    type: z.string().min(1).optional(),
    help: "file holding the hub's password on an external broker (first line)",
  },
  mqttHost: { flag: 'mqtt-host', arg: '<addr>', env: 'HOMELAB_MQTT_HOST', type: z.string().default('127.0.0.1'), help: 'embedded broker listen address' },
  mqttPort: { flag: 'mqtt-port', arg: '<port>', env: 'HOMELAB_MQTT_PORT', type: Port.default(1883), help: 'embedded broker port' },
  /** Development only: the embedded broker admits clients without credentials (loudly logged). */
  allowAnonymous: {
    flag: 'allow-anonymous',
    switch: true,
    env: 'HOMELAB_MQTT_ALLOW_ANONYMOUS',
    type: Switch.default(false),
    help: "DEVELOPMENT ONLY: the embedded broker admits clients without credentials (variable =true); by default only 'homelab nodes add' identities",
  },
  /** A TLS listener on the embedded broker: PEM certificate and key, both or neither. */
  mqttTlsCert: {
    flag: 'mqtt-tls-cert',
    arg: '<pem>',
    env: 'HOMELAB_MQTT_TLS_CERT',
    type: z.string().min(1).optional(),
    help: 'certificate of an MQTT-over-TLS listener on the embedded broker (with --mqtt-tls-key)',
  },
  mqttTlsKey: { flag: 'mqtt-tls-key', arg: '<pem>', env: 'HOMELAB_MQTT_TLS_KEY', type: z.string().min(1).optional(), help: 'its private key' },
  mqttTlsPort: { flag: 'mqtt-tls-port', arg: '<port>', env: 'HOMELAB_MQTT_TLS_PORT', type: Port.default(8883), help: 'its port' },
  /**
   * Per node, messages per second and burst (token bucket) in the embedded
   * broker. Beyond it the node is slowed (its PUBACKs wait for tokens, so its
   * window fills); more than a burst ahead, it is disconnected. An agent
   * publishes a few messages a second, and drains a backlog in windows of at
   * most 1000 unacknowledged events. 0 turns it off.
   */
  mqttRateLimit: {
    env: 'HOMELAB_MQTT_RATE_LIMIT',
    type: z.coerce.number().nonnegative().default(2000),
    help: 'per node messages/s beyond which the embedded broker slows it down (0 = off)',
  },
  mqttRateBurst: { env: 'HOMELAB_MQTT_RATE_BURST', type: z.coerce.number().int().positive().default(20_000), help: 'burst of that rate limit' },
  httpHost: { flag: 'http-host', arg: '<addr>', env: 'HOMELAB_HTTP_HOST', type: z.string().default('127.0.0.1'), help: 'UI/API listen address' },
  httpPort: { flag: 'http-port', arg: '<port>', env: 'HOMELAB_HTTP_PORT', type: Port.default(18180), help: 'UI/API port' },
  /**
   * An opt-in listener serving only GET /metrics without credentials, for a
   * Prometheus on the LAN that cannot send the viewer token (docs/metrics.md).
   * Off unless a port is given.
   */
  metricsPort: {
    flag: 'metrics-port',
    arg: '<port>',
    env: 'HOMELAB_METRICS_PORT',
    type: Port.optional(),
    help: 'also serve /metrics without credentials on this port (default: off; /metrics on the UI port needs a token)',
  },
  metricsHost: {
    flag: 'metrics-host',
    arg: '<addr>',
    env: 'HOMELAB_METRICS_HOST',
    type: z.string().default('127.0.0.1'),
    help: 'listen address of that /metrics listener (e.g. 0.0.0.0 for a scraper on the LAN)',
  },
  /** docs/host-health.md: a Raspberry Pi throttles from 80 °C. */
  hostTempFindingC: {
    env: 'HOMELAB_HOST_TEMP_FINDING_C',
    type: z.coerce.number().min(0).max(150).default(HOST_TEMP_FINDING_C),
    help: 'CPU temperature (°C) from which the supervisor reports a host_temperature finding for a node',
  },
  /** Validated by NodeAliasMap (docs/node-aliases.md). */
  aliases: {
    env: 'NODE_ALIAS_MAP',
    type: NodeAliasMap.default({}),
    help: 'agent names to hosts/ folders, e.g. \'{"node-1":"piha"}\': the agent named node-1 is hosts/piha',
  },
  supervisorIntervalMs: {
    env: 'HOMELAB_SUPERVISOR_INTERVAL_MS',
    type: z.coerce.number().int().positive().default(5000),
    help: 'ms between supervisor cycles (reload services.yaml, reconcile, propose)',
  },
  notifyIntervalMs: {
    env: 'HOMELAB_NOTIFY_INTERVAL_MS',
    type: z.coerce.number().int().positive().default(2000),
    help: 'ms between notifier cycles (<root>/notifications.yaml; docs/notifications.md)',
  },
  executorIntervalMs: {
    env: 'HOMELAB_EXECUTOR_INTERVAL_MS',
    type: z.coerce.number().int().positive().default(1000),
    help: 'ms between executor cycles (send approved actions, check running ones)',
  },
  /** Not configurable by operators (tests shorten it); help leaves it out. */
  observerIntervalMs: { type: z.coerce.number().int().positive().default(1000), help: 'ms between observer passes over the event log' },
  commandTimeoutMs: {
    env: 'HOMELAB_COMMAND_TIMEOUT_MS',
    type: z.coerce.number().int().positive().default(120_000),
    help: 'ms a sent command has to finish (its deadline); then the action fails',
  },
  /** MQTT packets above this size are refused by the embedded broker and ignored by ingest. */
  maxPayloadBytes: {
    type: z.coerce
      .number()
      .int()
      .positive()
      .default(256 * 1024),
    help: 'MQTT packets above this many bytes are refused and ignored (also written by broker-config; not configurable)',
  },
  /**
   * Ghost pruning (docs/observer-runtime.md): a service not reported for this
   * long while its node kept reporting leaves the world view. The agent repeats
   * every service each 30 s, so 1 h is 120 missed repeats: no hiccup gets there,
   * and a service removed from a node is gone within the hour. 0 disables.
   */
  serviceTtlMs: {
    env: 'HOMELAB_SERVICE_TTL_MS',
    type: z.coerce
      .number()
      .int()
      .nonnegative()
      .default(60 * 60_000),
    help: 'ms a service may go unreported before it leaves the world view (0 = never)',
  },
  /**
   * A node silent this long (measured against the newest event of the fleet,
   * not the clock) leaves the view with its services, unless it has a
   * services.yaml. 7 days outlasts a long weekend away from a broken node. 0 disables.
   */
  nodeTtlMs: {
    env: 'HOMELAB_NODE_TTL_MS',
    type: z.coerce
      .number()
      .int()
      .nonnegative()
      .default(7 * 24 * 60 * 60_000),
    help: 'ms a node without services.yaml may stay silent before it leaves the view (0 = never)',
  },
  /** Days of the event log older than this many whole days are gzipped (≥ 1: never today). */
  retentionCompressDays: {
    env: 'HOMELAB_RETENTION_COMPRESS_DAYS',
    type: z.coerce.number().int().min(1).default(7),
    help: 'event log days older than this are gzipped',
  },
  retentionIntervalMs: {
    env: 'HOMELAB_RETENTION_INTERVAL_MS',
    type: z.coerce
      .number()
      .int()
      .positive()
      .default(60 * 60_000),
    help: 'ms between retention passes',
  },
  /** Snapshots of the fold for `GET /api/world?at=` (docs/observer-runtime.md, "World at a past instant"). */
  historyIntervalMs: {
    env: 'HOMELAB_HISTORY_INTERVAL_MS',
    type: z.coerce
      .number()
      .int()
      .nonnegative()
      .default(60 * 60_000),
    help: 'ms between history snapshots of world state under state/history/ (0 = none: a past world is folded from the start of the log)',
  },
  historyRetentionDays: {
    env: 'HOMELAB_HISTORY_RETENTION_DAYS',
    type: z.coerce.number().positive().default(30),
    help: 'days a history snapshot is kept (the newest always is)',
  },
  /** Home Assistant MQTT discovery (docs/home-assistant.md); off unless enabled. */
  haDiscovery: {
    flag: 'ha-discovery',
    switch: true,
    env: 'HOMELAB_HA_DISCOVERY',
    type: Switch.default(false),
    help: 'publish Home Assistant MQTT discovery: a device per node, its services and disks as entities (variable =true)',
  },
  /** Also read by `homelab broker-config`: the ACL grants the hub and Home Assistant their topics under it. */
  haDiscoveryPrefix: {
    flag: 'ha-discovery-prefix',
    arg: '<topic>',
    env: 'HOMELAB_HA_DISCOVERY_PREFIX',
    type: DiscoveryPrefix.default(DEFAULT_DISCOVERY_PREFIX),
    help: "Home Assistant's discovery prefix (its MQTT integration's setting)",
  },
  /** Off by default: a press runs the action as an operator's approval would (docs/home-assistant.md, "The Approve button"). */
  haApproveButtons: {
    flag: 'ha-approve-buttons',
    switch: true,
    env: 'HOMELAB_HA_APPROVE_BUTTONS',
    type: Switch.default(false),
    help: 'RISK: an Approve button in Home Assistant per pending action; whoever can press it there approves (variable =true)',
  },
  /** UI login `admin`: a scrypt hash from `homelab auth hash-password` (else the generated one in <root>/auth/). */
  adminPasswordHash: {
    env: 'HOMELAB_ADMIN_PASSWORD_HASH',
    type: z
      .string()
      .regex(/^scrypt\$/, 'must come from `homelab auth hash-password`')
      .optional(),
    help: "the UI password of 'admin', from 'homelab auth hash-password' (default: generated at first start)",
  },
} as const satisfies SettingsTable;

export const HubConfig = settingsObject(HUB_SETTINGS).refine((c) => (c.mqttTlsCert === undefined) === (c.mqttTlsKey === undefined), {
  path: ['mqttTlsCert'],
  message: '--mqtt-tls-cert and --mqtt-tls-key go together',
});
export type HubConfig = z.infer<typeof HubConfig>;

/** The options of `homelab hub`, as parseArgs takes them. */
export const HUB_OPTIONS = settingsOptions(HUB_SETTINGS);
export type HubFlags = SettingsFlags<typeof HUB_SETTINGS>;

/** `homelab hub --help` lines for every setting: flag, meaning, variable, default. */
export function hubSettingsHelp(): string {
  return settingsHelp(HUB_SETTINGS);
}

/** A secret from a file (Docker/Kubernetes secrets): the first line, without its line break. */
export function readSecretFile(file: string, what: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new HubError('config_invalid', `${what} ${file}: ${(err as Error).message}`);
  }
  const secret = text.split(/\r?\n/)[0] ?? '';
  if (!secret) throw new HubError('config_invalid', `${what} ${file}: empty`);
  return secret;
}

/** Flags win over environment, environment over defaults; every wrong value named by its flag/variable. */
export function resolveHubConfig(flags: HubFlags, env: NodeJS.ProcessEnv): HubConfig {
  const raw = readSettings(HUB_SETTINGS, flags, env);
  if (typeof raw.mqttPasswordFile === 'string') raw.mqttPassword = readSecretFile(raw.mqttPasswordFile, settingSource(HUB_SETTINGS, 'mqttPasswordFile'));
  const parsed = HubConfig.safeParse(raw);
  if (!parsed.success) {
    const problems = settingsProblems(HUB_SETTINGS, parsed.error);
    throw new HubError('config_invalid', `invalid hub configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  return parsed.data;
}
