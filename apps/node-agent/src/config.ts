import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AGENT_CREDENTIAL_ENV, MountPath, NodeName } from '@homelab/contracts';
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
 * Everything the agent needs to run, after defaults. The MQTT identity is the
 * node name: client id and username both equal it, so no node can take over
 * another's session (docs/security.md, "Client id = username = node name").
 */
export const AgentConfig = z
  .object({
    node: NodeName,
    mqttUrl: z.url({ protocol: /^mqtts?$/, error: 'must be an mqtt:// or mqtts:// URL' }).default('mqtt://127.0.0.1:1883'),
    /** Must equal `node` when given (the broker ties the identity to it). */
    mqttUsername: z.string().min(1).max(63).optional(),
    mqttPassword: z.string().min(1).max(1024).optional(),
    /** A file holding the password (first line), e.g. a Docker secret; used when no password is given directly. */
    mqttPasswordFile: z.string().min(1).optional(),
    /** PEM CA certificate to trust for an mqtts:// broker with a self-signed or private certificate. */
    mqttCaFile: z.string().min(1).optional(),
    dockerSocket: z.string().startsWith('/', 'must be an absolute path').default('/var/run/docker.sock'),
    /** Seq lease, session counter, outbox, journal, desired cache. */
    stateDir: z.string().min(1),
    heartbeatMs: PositiveMs.default(30_000),
    scanMs: PositiveMs.default(10_000),
    /**
     * Commands are refused once the hub's time, as the agent knows it from the
     * commands' `issuedAt` (hub-clock.ts), is past `deadline + commandClockSkewMs`.
     */
    commandClockSkewMs: z.coerce.number().int().nonnegative().default(60_000),
    /** Seconds Docker waits for a container to stop before killing it on restart. */
    restartStopTimeoutSec: z.coerce.number().int().nonnegative().max(600).default(10),
    /** The outbox keeps at most this many bytes of unacknowledged events; oldest dropped first. */
    outboxMaxBytes: z.coerce.number().int().min(64 * 1024).default(50 * 1024 * 1024),
    /** Unacknowledged events are sent again after this long without the hub's ack. */
    ackTimeoutMs: PositiveMs.default(30_000),
    /** Inbound MQTT payloads above this are refused before parsing. */
    maxPayloadBytes: z.coerce.number().int().positive().default(256 * 1024),
    /** Mounts whose disk usage is watched (comma-separated); default `/` and the Docker data-root. */
    diskMounts: z
      .string()
      .transform((v) => v.split(',').map((m) => m.trim()).filter(Boolean))
      .pipe(z.array(MountPath).min(1, 'at least one mount'))
      .optional(),
    diskWarnPercent: z.coerce.number().min(1).max(100).default(85),
    diskHighPercent: z.coerce.number().min(1).max(100).default(95),
    /** A mount goes back to a lower level only this many points below the threshold. */
    diskHysteresisPercent: z.coerce.number().min(0).max(50).default(5),
    diskCheckMs: PositiveMs.default(30_000),
    /**
     * Folders whose compose files `redeploy` may run (comma-separated, default
     * /opt/stacks): services.yaml comes from the hub, so the node decides which
     * files compose may be pointed at (docs/security.md).
     */
    stackRoots: z
      .string()
      .default(DEFAULT_STACK_ROOT)
      .transform((v) => v.split(',').map((m) => m.trim()).filter(Boolean))
      .pipe(z.array(StackRoot).min(1, 'at least one folder')),
  })
  .refine((c) => c.diskWarnPercent <= c.diskHighPercent, { path: ['diskWarnPercent'], message: 'must not be above the high threshold' })
  .refine((c) => c.mqttUsername === undefined || c.mqttUsername === c.node, {
    path: ['mqttUsername'],
    message: 'must equal the node name (the broker ties client id, username and node together)',
  });
export type AgentConfig = z.infer<typeof AgentConfig>;

/** Command-line flags of `homelab agent` (all optional; flags win over the environment). */
export interface AgentFlags {
  node?: string;
  'mqtt-url'?: string;
  'docker-socket'?: string;
  'state-dir'?: string;
  'mqtt-password-file'?: string;
  'mqtt-ca'?: string;
  'stack-roots'?: string;
}

export type AgentConfigCheck = { ok: true; config: AgentConfig } | { ok: false; problems: string[] };

const ENV = {
  node: 'HOMELAB_NODE',
  mqttUrl: 'HOMELAB_MQTT_URL',
  mqttUsername: 'HOMELAB_MQTT_USERNAME',
  ...AGENT_CREDENTIAL_ENV,
  mqttCaFile: 'HOMELAB_MQTT_CA_FILE',
  dockerSocket: 'DOCKER_SOCKET',
  stateDir: 'HOMELAB_AGENT_STATE_DIR',
  heartbeatMs: 'HOMELAB_HEARTBEAT_MS',
  scanMs: 'HOMELAB_SCAN_MS',
  commandClockSkewMs: 'HOMELAB_COMMAND_CLOCK_SKEW_MS',
  restartStopTimeoutSec: 'HOMELAB_RESTART_STOP_TIMEOUT_SEC',
  outboxMaxBytes: 'HOMELAB_OUTBOX_MAX_BYTES',
  ackTimeoutMs: 'HOMELAB_ACK_TIMEOUT_MS',
  maxPayloadBytes: 'HOMELAB_MAX_PAYLOAD_BYTES',
  diskMounts: 'HOMELAB_DISK_MOUNTS',
  diskWarnPercent: 'HOMELAB_DISK_WARN_PERCENT',
  diskHighPercent: 'HOMELAB_DISK_HIGH_PERCENT',
  diskHysteresisPercent: 'HOMELAB_DISK_HYSTERESIS_PERCENT',
  diskCheckMs: 'HOMELAB_DISK_CHECK_MS',
  stackRoots: 'HOMELAB_STACK_ROOTS',
} as const satisfies Partial<Record<keyof AgentConfig, string>>;

const FLAG_OF: Partial<Record<keyof AgentConfig, keyof AgentFlags>> = {
  node: 'node',
  mqttUrl: 'mqtt-url',
  dockerSocket: 'docker-socket',
  stateDir: 'state-dir',
  mqttPasswordFile: 'mqtt-password-file',
  mqttCaFile: 'mqtt-ca',
  stackRoots: 'stack-roots',
};

/** Where a problem came from, in the operator's words (`--node (HOMELAB_NODE)`). */
function sourceOf(key: string): string {
  const env = (ENV as Record<string, string>)[key];
  const flag = (FLAG_OF as Record<string, string>)[key];
  return [flag && `--${flag}`, env && `(${env})`].filter(Boolean).join(' ') || key;
}

/** Flags over environment over defaults; every problem listed, none thrown. */
export function checkAgentConfig(env: NodeJS.ProcessEnv, flags: AgentFlags = {}): AgentConfigCheck {
  const pick = (key: keyof typeof ENV): string | undefined => {
    const flag = FLAG_OF[key];
    const fromFlag = flag ? flags[flag] : undefined;
    const value = fromFlag ?? env[ENV[key]];
    return value === '' ? undefined : value;
  };
  const raw: Record<string, string | undefined> = {};
  for (const key of Object.keys(ENV) as Array<keyof typeof ENV>) raw[key] = pick(key);
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
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${sourceOf(String(i.path[0] ?? ''))}: ${i.message}`);
    return { ok: false, problems };
  }
  return { ok: true, config: { ...parsed.data, stateDir: path.resolve(parsed.data.stateDir) } };
}

/** As checkAgentConfig, but throws one AgentError('config_invalid') listing every problem. */
export function parseAgentConfig(env: NodeJS.ProcessEnv, flags: AgentFlags = {}): AgentConfig {
  const res = checkAgentConfig(env, flags);
  if (!res.ok) throw new AgentError('config_invalid', `invalid agent configuration:\n${res.problems.map((p) => `  - ${p}`).join('\n')}`);
  return res.config;
}
