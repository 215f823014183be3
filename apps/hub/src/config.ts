import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { HubError } from './errors';
import { NodeAliasMap, NodeAliasRecord } from './node-aliases';

const Port = z.coerce.number().int().min(0).max(65535);

export const HubConfig = z.object({
  /** Data root (docs/architecture.md, "Data root"). */
  root: z.string().min(1),
  /** Folder holding `<node>/services.yaml`. */
  hostsDir: z.string().min(1),
  /** External broker; when absent the hub embeds aedes. */
  mqttUrl: z.url({ protocol: /^mqtts?$/ }).optional(),
  /** The hub's own identity on an external broker (`homelab nodes add homelab-hub --role hub`). */
  mqttUsername: z.string().optional(),
  mqttPassword: z.string().optional(),
  mqttHost: z.string().default('127.0.0.1'),
  mqttPort: Port.default(1883),
  /** Development only: the embedded broker admits clients without credentials (loudly logged). */
  allowAnonymous: z.boolean().default(false),
  /** A TLS listener on the embedded broker: PEM certificate and key, both or neither. */
  mqttTlsCert: z.string().min(1).optional(),
  mqttTlsKey: z.string().min(1).optional(),
  mqttTlsPort: Port.default(8883),
  /**
   * Per node, messages per second and burst (token bucket) in the embedded
   * broker. Beyond it the node is slowed (its PUBACKs wait for tokens, so its
   * window fills); more than a burst ahead, it is disconnected. An agent
   * publishes a few messages a second, and drains a backlog in windows of at
   * most 1000 unacknowledged events. 0 turns it off.
   */
  mqttRateLimit: z.coerce.number().nonnegative().default(2000),
  mqttRateBurst: z.coerce.number().int().positive().default(20_000),
  httpHost: z.string().default('127.0.0.1'),
  httpPort: Port.default(18180),
  /** NODE_ALIAS_MAP, validated (docs/node-aliases.md). */
  aliases: NodeAliasRecord.default({}),
  supervisorIntervalMs: z.coerce.number().int().positive().default(5000),
  executorIntervalMs: z.coerce.number().int().positive().default(1000),
  observerIntervalMs: z.coerce.number().int().positive().default(1000),
  commandTimeoutMs: z.coerce.number().int().positive().default(120_000),
  /** MQTT packets above this size are refused by the embedded broker and ignored by ingest. */
  maxPayloadBytes: z.coerce.number().int().positive().default(256 * 1024),
  /**
   * Ghost pruning (docs/observer-runtime.md): a service not reported for this
   * long while its node kept reporting leaves the world view. The agent repeats
   * every service each 30 s, so 1 h is 120 missed repeats: no hiccup gets there,
   * and a service removed from a node is gone within the hour. 0 disables.
   */
  serviceTtlMs: z.coerce.number().int().nonnegative().default(60 * 60_000),
  /**
   * A node silent this long (measured against the newest event of the fleet,
   * not the clock) leaves the view with its services, unless it has a
   * services.yaml. 7 days outlasts a long weekend away from a broken node. 0 disables.
   */
  nodeTtlMs: z.coerce.number().int().nonnegative().default(7 * 24 * 60 * 60_000),
  /** Days of the event log older than this many whole days are gzipped (≥ 1: never today). */
  retentionCompressDays: z.coerce.number().int().min(1).default(7),
  /** How often the retention pass looks for days to compress. */
  retentionIntervalMs: z.coerce.number().int().positive().default(60 * 60_000),
  /** UI login `admin`: a scrypt hash from `homelab auth hash-password` (else the generated one in <root>/auth/). */
  adminPasswordHash: z.string().regex(/^scrypt\$/, 'must come from `homelab auth hash-password`').optional(),
}).refine((c) => (c.mqttTlsCert === undefined) === (c.mqttTlsKey === undefined), {
  path: ['mqttTlsCert'],
  message: '--mqtt-tls-cert and --mqtt-tls-key go together',
});
export type HubConfig = z.infer<typeof HubConfig>;

/**
 * The hub's settings that come from the environment only (no flag): one table
 * that resolveHubConfig reads them by and `homelab hub --help` lists (with the
 * defaults of HubConfig), so neither can leave one out.
 */
export const HUB_ENV_SETTINGS = [
  { key: 'supervisorIntervalMs', env: 'HOMELAB_SUPERVISOR_INTERVAL_MS', help: 'ms between supervisor cycles (reload services.yaml, reconcile, propose)' },
  { key: 'executorIntervalMs', env: 'HOMELAB_EXECUTOR_INTERVAL_MS', help: 'ms between executor cycles (send approved actions, check running ones)' },
  { key: 'commandTimeoutMs', env: 'HOMELAB_COMMAND_TIMEOUT_MS', help: "ms a sent command has to finish (its deadline); then the action fails" },
  { key: 'mqttRateLimit', env: 'HOMELAB_MQTT_RATE_LIMIT', help: 'per node messages/s beyond which the embedded broker slows it down (0 = off)' },
  { key: 'mqttRateBurst', env: 'HOMELAB_MQTT_RATE_BURST', help: 'burst of that rate limit' },
  { key: 'serviceTtlMs', env: 'HOMELAB_SERVICE_TTL_MS', help: 'ms a service may go unreported before it leaves the world view (0 = never)' },
  { key: 'nodeTtlMs', env: 'HOMELAB_NODE_TTL_MS', help: 'ms a node without services.yaml may stay silent before it leaves the view (0 = never)' },
  { key: 'retentionCompressDays', env: 'HOMELAB_RETENTION_COMPRESS_DAYS', help: 'event log days older than this are gzipped' },
  { key: 'retentionIntervalMs', env: 'HOMELAB_RETENTION_INTERVAL_MS', help: 'ms between retention passes' },
] as const satisfies readonly { key: keyof HubConfig; env: string; help: string }[];

/** `homelab hub --help` lines for HUB_ENV_SETTINGS: variable, meaning, default. */
export function hubEnvSettingsHelp(): string {
  const width = Math.max(...HUB_ENV_SETTINGS.map((s) => s.env.length));
  const lines = HUB_ENV_SETTINGS.map((s) => `  ${s.env.padEnd(width)}  ${s.help} (default ${String(HubConfig.shape[s.key].parse(undefined))})`);
  return ['Environment only:', ...lines].join('\n');
}

export interface HubFlags {
  root?: string;
  hosts?: string;
  'mqtt-url'?: string;
  'mqtt-host'?: string;
  'mqtt-port'?: string;
  'http-host'?: string;
  'http-port'?: string;
  'allow-anonymous'?: boolean;
  'mqtt-password-file'?: string;
  'mqtt-tls-cert'?: string;
  'mqtt-tls-key'?: string;
  'mqtt-tls-port'?: string;
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

/** Flags win over environment, environment over defaults. */
export function resolveHubConfig(flags: HubFlags, env: NodeJS.ProcessEnv): HubConfig {
  let aliases: Record<string, string> = {};
  if (env.NODE_ALIAS_MAP) {
    const parsed = NodeAliasMap.safeParse(env.NODE_ALIAS_MAP);
    if (!parsed.success) {
      throw new HubError('config_invalid', `NODE_ALIAS_MAP: ${z.prettifyError(parsed.error)}`);
    }
    aliases = parsed.data;
  }
  const passwordFile = flags['mqtt-password-file'] ?? env.HOMELAB_MQTT_PASSWORD_FILE;
  const raw = {
    root: flags.root ?? env.HOMELAB_ROOT ?? '/opt/homelab',
    hostsDir: path.resolve(flags.hosts ?? env.HOMELAB_HOSTS_DIR ?? 'hosts'),
    mqttUrl: flags['mqtt-url'] ?? env.HOMELAB_MQTT_URL,
    mqttUsername: env.HOMELAB_MQTT_USERNAME,
    mqttPassword: passwordFile ? readSecretFile(passwordFile, '--mqtt-password-file (HOMELAB_MQTT_PASSWORD_FILE)') : env.HOMELAB_MQTT_PASSWORD,
    allowAnonymous: flags['allow-anonymous'] === true || env.HOMELAB_MQTT_ALLOW_ANONYMOUS === 'true',
    mqttTlsCert: flags['mqtt-tls-cert'] ?? env.HOMELAB_MQTT_TLS_CERT,
    mqttTlsKey: flags['mqtt-tls-key'] ?? env.HOMELAB_MQTT_TLS_KEY,
    mqttTlsPort: flags['mqtt-tls-port'] ?? env.HOMELAB_MQTT_TLS_PORT,
    mqttHost: flags['mqtt-host'] ?? env.HOMELAB_MQTT_HOST,
    mqttPort: flags['mqtt-port'] ?? env.HOMELAB_MQTT_PORT,
    httpHost: flags['http-host'] ?? env.HOMELAB_HTTP_HOST,
    httpPort: flags['http-port'] ?? env.HOMELAB_HTTP_PORT,
    aliases,
    ...Object.fromEntries(HUB_ENV_SETTINGS.map((s) => [s.key, env[s.env]])),
    adminPasswordHash: env.HOMELAB_ADMIN_PASSWORD_HASH || undefined,
  };
  const parsed = HubConfig.safeParse(raw);
  if (!parsed.success) throw new HubError('config_invalid', `invalid hub configuration:\n${z.prettifyError(parsed.error)}`);
  return { ...parsed.data, root: path.resolve(parsed.data.root) };
}
