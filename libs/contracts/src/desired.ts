import { z } from 'zod';
import { isAgentCredentialEnv } from './agent-env';
import { ContainerName, IsoTime, NodeName, ServiceName } from './names';

/**
 * Where a compose file may be: an absolute, normalized path to a `.yml` or
 * `.yaml` file, without control characters (a NUL would stop exec before
 * compose runs). Which folders are allowed is the agent's decision
 * (its stack roots, docs/security.md), since only the node knows its layout.
 */
export const ComposeFilePath = z
  .string()
  .max(512)
  .startsWith('/', 'must be an absolute path')
  .refine((p) => !/[\u0000-\u001f\u007f]/.test(p), 'must not contain control characters (NUL, newline, …)')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ..')
  .refine(
    (p) =>
      !p
        .split('/')
        .slice(1)
        .some((seg) => seg === '' || seg === '.'),
    'must be a normalized path (no //, /./ or trailing /)',
  )
  .refine((p) => /\.ya?ml$/.test(p), 'must name a compose file ending in .yml or .yaml');

/** How `redeploy` recreates a service (`docker-compose` v1 unless told otherwise: docs/services-yaml.md). */
export const ComposeSpec = z.strictObject({
  /** Absolute path of the compose file on the node; the agent runs it only under its stack roots. */
  file: ComposeFilePath,
  project: ServiceName,
  /** Compose service name; defaults to the service's own name. */
  service: ServiceName.optional(),
  build: z.boolean().default(false),
  command: z.enum(['docker-compose', 'docker compose']).default('docker-compose'),
});
export type ComposeSpec = z.infer<typeof ComposeSpec>;

/**
 * A duration as people write it: `90s`, `10m`, `6h`, `1h30m`, `2d`, `500ms`, or `0`.
 * Kept as text in the parsed file (it is shown back to the operator); `durationMs` converts.
 */
export const DURATION_PATTERN = /^(?:0|(?:\d{1,7}(?:ms|s|m|h|d))+)$/;
const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_MESSAGE = 'must be a duration like 90s, 10m, 6h, 1h30m, 2d or 0';
/** YAML reads a bare `0` as a number; it is the one number that is a duration without a unit. */
export const Duration = z
  .union([z.literal(0), z.string({ error: DURATION_MESSAGE }).regex(DURATION_PATTERN, DURATION_MESSAGE)], { error: DURATION_MESSAGE })
  .transform((v) => String(v));

/** Milliseconds of a duration matching DURATION_PATTERN (throws on anything else). */
export function durationMs(text: string): number {
  if (!DURATION_PATTERN.test(text)) throw new Error(`not a duration: ${JSON.stringify(text)}`);
  let total = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(m[1]) * DURATION_UNIT_MS[m[2]!]!;
  return total;
}

const durationWithin = (minMs: number, maxMs: number, what: string) =>
  Duration.refine((d) => {
    if (!DURATION_PATTERN.test(d)) return true; // the pattern already reported it
    const ms = durationMs(d);
    return ms >= minMs && ms <= maxMs;
  }, what);

/**
 * Highest action risk the supervisor approves by itself: `none` (the default), `low`, or
 * `guarded` (everything); docs/supervisor.md, "Auto-approval".
 */
export const AutoApprove = z.enum(['none', 'low', 'guarded']);
export type AutoApprove = z.infer<typeof AutoApprove>;

/**
 * How many `container_restart` actions a service may get in a sliding window
 * before the supervisor stops restarting and proposes a guarded `redeploy`.
 * Between restarts it waits `backoff`, doubled after each restart in the window.
 */
export const RestartBudget = z.strictObject({
  max: z.number().int().min(0).max(100).optional().describe('container restarts allowed per window (default 3); 0 escalates at once'),
  window: durationWithin(1000, 86_400_000, 'must be between 1s and 24h').optional().describe('sliding window of the budget (default 30m, at most 24h)'),
  backoff: durationWithin(0, 86_400_000, 'must be between 0 and 24h')
    .optional()
    .describe('wait after the first restart before the next one, doubled after each restart (default 1m)'),
});
export type RestartBudget = z.infer<typeof RestartBudget>;

/**
 * Supervisor policy. The same shape at three levels, each field falling back to
 * the next: a service's `policy`, its host's `policy` (both in services.yaml),
 * the fleet-wide `hosts/policy.yaml`, then DEFAULT_POLICY.
 */
export const PolicySpec = z.strictObject({
  autoApprove: AutoApprove.optional().describe('highest risk approved without an operator: none (default), low or guarded'),
  restartBudget: RestartBudget.optional(),
  rejectCooldown: durationWithin(60_000, 30 * 86_400_000, 'must be between 1m and 30d')
    .optional()
    .describe('a rejected action is proposed again for the same occurrence after this long (default 6h); recovery ends the occurrence earlier'),
});
export type PolicySpec = z.infer<typeof PolicySpec>;

/** Built-in policy: nothing is approved automatically (docs/supervisor.md, "Policy"). */
export const DEFAULT_POLICY = {
  autoApprove: 'none',
  restartBudget: { max: 3, window: '30m', backoff: '1m' },
  rejectCooldown: '6h',
} as const satisfies PolicySpec;

/**
 * A maintenance window: while it is active the supervisor proposes nothing for
 * the node or service, approves nothing automatically and cancels nothing as
 * resolved; its drifts show as `silenced` findings.
 */
export const Maintenance = z
  .strictObject({
    until: IsoTime.describe('end of the window, ISO 8601 with offset, e.g. 2026-12-01T18:00:00Z'),
    from: IsoTime.optional().describe('start of the window (default: now)'),
    reason: z.string().max(200).optional(),
  })
  .refine((m) => m.from === undefined || Date.parse(m.from) < Date.parse(m.until), { message: 'from must be before until', path: ['from'] });
export type Maintenance = z.infer<typeof Maintenance>;

const probeCommon = {
  /** Shown in events (`data.probe`); defaults to `<type>-<n>` (n = position in the list, from 1). */
  name: ServiceName.optional().describe('shown in events as data.probe (default <type>-<n>)'),
  interval: durationWithin(500, 3_600_000, 'must be between 500ms and 1h').optional().describe('time between two runs (default 10s)'),
  timeout: durationWithin(50, 60_000, 'must be between 50ms and 60s').optional().describe('a run that takes longer fails (default 2s)'),
  failures: z.number().int().min(1).max(10).optional().describe('consecutive failed runs before the service is unhealthy (default 1)'),
};

/** A TCP connect to `host:port` (default host 127.0.0.1). */
export const TcpProbe = z.strictObject({
  type: z.literal('tcp'),
  host: z.string().min(1).max(253).optional().describe('default 127.0.0.1'),
  port: z.number().int().min(1).max(65535),
  ...probeCommon,
});
/** An HTTP(S) GET: the status must be `status` (default: any 2xx or 3xx) and the body must contain `body` when given. */
export const HttpProbe = z.strictObject({
  type: z.literal('http'),
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).max(1024),
  status: z.number().int().min(100).max(599).optional().describe('expected status (default: any 2xx or 3xx)'),
  body: z.string().min(1).max(256).optional().describe('text the body must contain (first 64 KiB are read)'),
  ...probeCommon,
});
/** An MQTT CONNECT to a broker; a failure makes the service unhealthy with reason `mqtt_unreachable`. */
export const MqttProbe = z.strictObject({
  type: z.literal('mqtt'),
  url: z.url({ protocol: /^mqtts?$/, error: 'must be an mqtt:// or mqtts:// URL' }).max(1024),
  username: z.string().min(1).max(128).optional(),
  /** Name of an environment variable of the agent holding the password (never the password itself). */
  passwordEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]{0,63}$/, 'must be an environment variable name')
    .refine((name) => !isAgentCredentialEnv(name), "must not name the agent's own broker credential; give the probe a variable of its own")
    .optional(),
  ...probeCommon,
});
export const ProbeSpec = z.discriminatedUnion('type', [TcpProbe, HttpProbe, MqttProbe]);
export type ProbeSpec = z.infer<typeof ProbeSpec>;

/** The name a probe goes by in events. */
export function probeName(probe: ProbeSpec, index: number): string {
  return probe.name ?? `${probe.type}-${index + 1}`;
}

export const ServiceSpec = z.strictObject({
  /** `false` skips the service entirely (e.g. homeassistant on chelsty-ha, which has no agent watching it). */
  monitor: z.boolean().default(true),
  description: z.string().max(200).optional(),
  /** Containers that make up the service; defaults to one container named like the service. */
  containers: z.array(ContainerName).min(1).max(32).optional(),
  compose: ComposeSpec.optional(),
  /** Checks the agent runs besides the container state; any failing one makes the service unhealthy. */
  probes: z
    .array(ProbeSpec)
    .max(8)
    .refine((ps) => new Set(ps.map(probeName)).size === ps.length, 'probe names must be unique within a service')
    .optional(),
  /** Overrides the host's and the fleet's policy for this service (hub only; not sent to agents). */
  policy: PolicySpec.optional(),
  /** Silences this service (hub only; not sent to agents). */
  maintenance: Maintenance.optional(),
});
export type ServiceSpec = z.infer<typeof ServiceSpec>;

/** How `disk_cleanup` treats this node. */
export const DiskCleanupSpec = z.strictObject({
  /** Also remove volumes no container uses. Off by default: a volume may be a service's only copy of its data. */
  volumes: z.boolean().default(false),
});
export type DiskCleanupSpec = z.infer<typeof DiskCleanupSpec>;

/** The contents of `hosts/<node>/services.yaml`. */
export const HostServicesFile = z.strictObject({
  node: NodeName,
  /** Policy for every service of this node (and its disk cleanups); overrides `hosts/policy.yaml`. */
  policy: PolicySpec.optional(),
  /** Silences the whole node. */
  maintenance: Maintenance.optional(),
  diskCleanup: DiskCleanupSpec.optional(),
  services: z.record(ServiceName, ServiceSpec).default({}),
});
export type HostServicesFile = z.infer<typeof HostServicesFile>;

/** `hosts/policy.yaml`: the fleet-wide policy (optional file; every field optional). */
export const FleetPolicyFile = PolicySpec;
export type FleetPolicyFile = z.infer<typeof FleetPolicyFile>;

/** A service spec as agents get it: hub-only keys removed, so older agents (strict schema) accept it and policy edits cause no resend. */
export function agentServiceSpec(spec: ServiceSpec): ServiceSpec {
  if (spec.policy === undefined && spec.maintenance === undefined) return spec;
  const { policy: _policy, maintenance: _maintenance, ...rest } = spec;
  return rest;
}

/** Containers of a service, with the default applied. */
export function containersOf(service: string, spec: Pick<ServiceSpec, 'containers'>): string[] {
  return spec.containers ?? [service];
}

/** Retained on `nodes/<node>/desired`: what the agent of that node must watch. */
export const DesiredStateMessage = z.object({
  node: NodeName,
  /** Content hash of `services`, so agents can tell a real change from a resend. */
  revision: z.string().max(64),
  ts: IsoTime,
  services: z.record(ServiceName, ServiceSpec),
});
export type DesiredStateMessage = z.infer<typeof DesiredStateMessage>;
