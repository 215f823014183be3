import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
  AGENT_CREDENTIAL_ENV,
  MountPath,
  NodeName,
  readSettings,
  settingSource,
  settingsObject,
  settingsOptions,
  settingsProblems,
  type SettingsFlags,
  type SettingsTable,
} from '@homelab/contracts';
import { AgentError } from './errors';

const PositiveMs = z.coerce.number().int().positive();

/** Where compose stacks live unless HOMELAB_STACK_ROOTS says otherwise (deploy/compose.agent.yml mounts it). */
export const DEFAULT_STACK_ROOT = '/opt/stacks';
const StackRoot = z
  .string()
  .max(256)
  .startsWith('/', 'stack roots must be absolute paths')
  .refine((p) => p !== '/', 'a stack root of / would allow every file on the node')
  .refine((p) => path.posix.normalize(p) === p && !p.endsWith('/'), 'stack roots must be normalized paths (no .., //, /./ or trailing /)');

/**
 * Every setting of the agent, declared once (docs/configuration.md): AgentConfig,
 * the options of `homelab agent`, its `--help` and the messages naming a wrong
 * value are derived from this table. The MQTT identity is the node name: client
 * id and username both equal it (docs/security.md: client id = username, so no
 * node can take over another's session).
 */
export const AGENT_SETTINGS = {
  node: { flag: 'node', arg: '<name>', env: 'HOMELAB_NODE', type: NodeName, help: "this host's node name (required)" },
  mqttUrl: {
    flag: 'mqtt-url',
    arg: '<url>',
    env: 'HOMELAB_MQTT_URL',
    help: 'broker URL',
    type: z.url({ protocol: /^mqtts?$/, error: 'must be an mqtt:// or mqtts:// URL' }).default('mqtt://127.0.0.1:1883'),
  },
  /** Must equal `node` when given (the broker ties the identity to it). */
  mqttUsername: { env: 'HOMELAB_MQTT_USERNAME', type: z.string().min(1).max(63).optional(), help: 'MQTT username; when given, must equal the node name' },
  mqttPassword: {
    env: AGENT_CREDENTIAL_ENV.mqttPassword,
    type: z.string().min(1).max(1024).optional(),
    help: "this node's MQTT secret (or --mqtt-password-file)",
  },
  /** A file holding the password (first line), e.g. a Docker secret; used when no password is given directly. */
  mqttPasswordFile: {
    flag: 'mqtt-password-file',
    arg: '<file>',
    env: AGENT_CREDENTIAL_ENV.mqttPasswordFile,
    type: z.string().min(1).optional(),
    help: "file holding this node's MQTT secret (first line)",
  },
  /** PEM CA certificate to trust for an mqtts:// broker with a self-signed or private certificate. */
  mqttCaFile: {
    flag: 'mqtt-ca',
    arg: '<pem>',
    env: 'HOMELAB_MQTT_CA_FILE',
    type: z.string().min(1).optional(),
    help: 'CA certificate to trust for an mqtts:// broker',
  },
  dockerSocket: {
    flag: 'docker-socket',
    arg: '<path>',
    env: 'DOCKER_SOCKET',
    type: z.string().startsWith('/', 'must be an absolute path').default('/var/run/docker.sock'),
    help: 'Docker socket',
  },
  /** Seq lease, session counter, outbox, journal, desired cache; checkAgentConfig fills the default. */
  stateDir: {
    flag: 'state-dir',
    arg: '<dir>',
    env: 'HOMELAB_AGENT_STATE_DIR',
    type: z.string().min(1),
    help: 'agent state: seq, outbox, journal, desired cache',
    defaultText: '<HOMELAB_ROOT or /opt/homelab>/agent/<node>',
  },
  heartbeatMs: { env: 'HOMELAB_HEARTBEAT_MS', type: PositiveMs.default(30_000), help: 'ms between heartbeats' },
  scanMs: { env: 'HOMELAB_SCAN_MS', type: PositiveMs.default(10_000), help: 'ms between full container scans' },
  /**
   * Commands are refused once the hub's time, as the agent knows it from the
   * commands' `issuedAt` (hub-clock.ts), is past `deadline + commandClockSkewMs`.
   */
  commandClockSkewMs: {
    env: 'HOMELAB_COMMAND_CLOCK_SKEW_MS',
    type: z.coerce.number().int().nonnegative().default(60_000),
    help: "ms past a command's deadline (hub time) before it is refused",
  },
  /** Seconds Docker waits for a container to stop before killing it on restart. */
  restartStopTimeoutSec: {
    env: 'HOMELAB_RESTART_STOP_TIMEOUT_SEC',
    type: z.coerce.number().int().nonnegative().max(600).default(10),
    help: 's Docker waits for a container to stop before killing it on restart',
  },
  /** The outbox keeps at most this many bytes of unacknowledged events; oldest dropped first. */
  outboxMaxBytes: {
    env: 'HOMELAB_OUTBOX_MAX_BYTES',
    type: z.coerce
      .number()
      .int()
      .min(64 * 1024)
      .default(50 * 1024 * 1024),
    help: 'bytes of unacknowledged events kept; oldest dropped first',
  },
  /** Unacknowledged events are sent again after this long without the hub's ack. */
  ackTimeoutMs: { env: 'HOMELAB_ACK_TIMEOUT_MS', type: PositiveMs.default(30_000), help: "ms without the hub's ack before events are sent again" },
  /** Inbound MQTT payloads above this are refused before parsing. */
  maxPayloadBytes: {
    env: 'HOMELAB_MAX_PAYLOAD_BYTES',
    type: z.coerce
      .number()
      .int()
      .positive()
      .default(256 * 1024),
    help: 'inbound MQTT payloads above this many bytes are refused',
  },
  /** Mounts whose disk usage is watched (comma-separated); default `/` and the Docker data-root. */
  diskMounts: {
    env: 'HOMELAB_DISK_MOUNTS',
    defaultText: '/ and the Docker data-root',
    help: 'mounts whose disk usage is watched (comma-separated)',
    type: z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((m) => m.trim())
          .filter(Boolean),
      )
      .pipe(z.array(MountPath).min(1, 'at least one mount'))
      .optional(),
  },
  diskWarnPercent: { env: 'HOMELAB_DISK_WARN_PERCENT', type: z.coerce.number().min(1).max(100).default(85), help: 'disk usage % reported as warn' },
  diskHighPercent: { env: 'HOMELAB_DISK_HIGH_PERCENT', type: z.coerce.number().min(1).max(100).default(95), help: 'disk usage % reported as high' },
  /** A mount goes back to a lower level only this many points below the threshold. */
  diskHysteresisPercent: {
    env: 'HOMELAB_DISK_HYSTERESIS_PERCENT',
    type: z.coerce.number().min(0).max(50).default(5),
    help: 'points below a threshold before a mount goes back a level',
  },
  diskCheckMs: { env: 'HOMELAB_DISK_CHECK_MS', type: PositiveMs.default(30_000), help: 'ms between disk checks' },
  /**
   * Folders whose compose files `redeploy` may run (comma-separated, default
   * /opt/stacks): services.yaml comes from the hub, so the node decides which
   * files compose may be pointed at (docs/security.md).
   */
  stackRoots: {
    flag: 'stack-roots',
    arg: '<dirs>',
    env: 'HOMELAB_STACK_ROOTS',
    help: 'folders (comma-separated) whose compose files redeploy may run; any other compose.file is refused',
    type: z
      .string()
      .default(DEFAULT_STACK_ROOT)
      .transform((v) =>
        v
          .split(',')
          .map((m) => m.trim())
          .filter(Boolean),
      )
      .pipe(z.array(StackRoot).min(1, 'at least one folder')),
  },
} as const satisfies SettingsTable;

/** Everything the agent needs to run, after defaults. */
export const AgentConfig = settingsObject(AGENT_SETTINGS)
  .refine((c) => c.diskWarnPercent <= c.diskHighPercent, { path: ['diskWarnPercent'], message: 'must not be above the high threshold' })
  .refine((c) => c.mqttUsername === undefined || c.mqttUsername === c.node, {
    path: ['mqttUsername'],
    message: 'must equal the node name (the broker ties client id, username and node together)',
  });
export type AgentConfig = z.infer<typeof AgentConfig>;

/** The options of `homelab agent`, as parseArgs takes them (all optional; flags win over the environment). */
export const AGENT_OPTIONS = settingsOptions(AGENT_SETTINGS);
export type AgentFlags = SettingsFlags<typeof AGENT_SETTINGS>;

export type AgentConfigCheck = { ok: true; config: AgentConfig } | { ok: false; problems: string[] };

const sourceOf = (key: keyof typeof AGENT_SETTINGS): string => settingSource(AGENT_SETTINGS, key);

/** Flags over environment over defaults; every problem listed, none thrown. */
export function checkAgentConfig(env: NodeJS.ProcessEnv, flags: AgentFlags = {}): AgentConfigCheck {
  const raw = readSettings(AGENT_SETTINGS, flags, env) as Record<string, string | undefined>;
  if (raw.node === undefined) return { ok: false, problems: [`${sourceOf('node')}: required (this host's node name)`] };
  const root = env.HOMELAB_ROOT || '/opt/homelab';
  raw.stateDir ??= path.join(root, 'agent', raw.node);
  if (raw.mqttPassword === undefined && raw.mqttPasswordFile !== undefined) {
    try {
      raw.mqttPassword = fs.readFileSync(raw.mqttPasswordFile, 'utf8').split(/\r?\n/)[0] || undefined;
      if (raw.mqttPassword === undefined) return { ok: false, problems: [`${sourceOf('mqttPasswordFile')}: ${raw.mqttPasswordFile} is empty`] };
    } catch (err) {
      return { ok: false, problems: [`${sourceOf('mqttPasswordFile')}: cannot read ${raw.mqttPasswordFile} (${(err as Error).message})`] };
    }
  }

  const parsed = AgentConfig.safeParse(raw);
  if (!parsed.success) return { ok: false, problems: settingsProblems(AGENT_SETTINGS, parsed.error) };
  return { ok: true, config: { ...parsed.data, stateDir: path.resolve(parsed.data.stateDir) } };
}

/** As checkAgentConfig, but throws one AgentError('config_invalid') listing every problem. */
export function parseAgentConfig(env: NodeJS.ProcessEnv, flags: AgentFlags = {}): AgentConfig {
  const res = checkAgentConfig(env, flags);
  if (!res.ok) throw new AgentError('config_invalid', `invalid agent configuration:\n${res.problems.map((p) => `  - ${p}`).join('\n')}`);
  return res.config;
}
