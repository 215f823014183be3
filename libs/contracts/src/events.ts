import { z } from 'zod';
import { IsoTime, NodeName, ServiceName, ContainerName } from './names';
import { ServiceSnapshot } from './status';

/**
 * Reasons a service is unhealthy (docs/events.md). The supervisor maps
 * `containers_not_running` and `mqtt_unreachable` to a container restart and
 * every other reason to a guarded redeploy, so unknown reasons from newer
 * agents are accepted rather than dropped.
 */
export const KNOWN_UNHEALTHY_REASONS = ['containers_not_running', 'container_unhealthy', 'restart_loop', 'probe_failed', 'mqtt_unreachable'] as const;
export const UnhealthyReason = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/);

export const ContainerObservation = z.object({
  name: ContainerName,
  state: z.string().max(32),
  health: z.string().max(32).optional(),
  restartCount: z.number().int().nonnegative().optional(),
});
export type ContainerObservation = z.infer<typeof ContainerObservation>;

const base = {
  /** Globally unique; agents use `<node>-<seq>`. */
  id: z.string().min(1).max(160),
  node: NodeName,
  /** Monotonic per node (per stream), survives agent restarts; ordering and dedup use it, never `ts`. */
  seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  /** The sender's clock; informative only (clocks may be skewed). */
  ts: IsoTime,
  /**
   * Agents: the seq of the event sent before this one (or the last seq the hub
   * acknowledged). The hub writes an event only when `prevSeq` is at or below
   * what it already holds, so an event a broker silently dropped (e.g.
   * Mosquitto's max_queued_messages) is resent instead of being acked past.
   */
  prevSeq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
};

const serviceHealthData = z.object({
  containers: z.array(ContainerObservation).max(64).optional(),
  /** True when this is the periodic repeat of an unchanged state, not a change. */
  heartbeat: z.boolean().optional(),
});

export const ServiceHealthyEvent = z.object({
  ...base,
  type: z.literal('service_healthy'),
  service: ServiceName,
  data: serviceHealthData.optional(),
});
export const ServiceRecoveredEvent = z.object({
  ...base,
  type: z.literal('service_recovered'),
  service: ServiceName,
  data: serviceHealthData.optional(),
});
/** The service's containers run but have no verdict yet (healthcheck start period, first probe result pending). */
export const ServiceStartingEvent = z.object({
  ...base,
  type: z.literal('service_starting'),
  service: ServiceName,
  data: serviceHealthData.optional(),
});
export const ServiceUnhealthyEvent = z.object({
  ...base,
  type: z.literal('service_unhealthy'),
  service: ServiceName,
  data: serviceHealthData.extend({
    reason: UnhealthyReason,
    detail: z.string().max(500).optional(),
    /** The failing probe (its `name` in services.yaml, or `<type>-<n>`), when a probe decided the verdict. */
    probe: z.string().max(64).optional(),
  }),
});
/**
 * A watched mount point: an absolute path, as the agent's HOMELAB_DISK_MOUNTS
 * requires. World state keys disks by it, so it can never be a key such as
 * `__proto__` that a JSON object cannot hold as data (docs/events.md). No
 * control characters, line or paragraph separators: a path with them names no
 * mount an operator configured, and it would only forge lines where the hub
 * shows it.
 */
const MOUNT_PATH_CONTROL = '\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029';
/** Matches a character a mount path may not hold (the event log's fast decoder checks with it too). */
export const MOUNT_PATH_FORBIDDEN = new RegExp(`[${MOUNT_PATH_CONTROL}]`);
export const MountPath = z
  .string()
  .max(256)
  .startsWith('/', 'must be an absolute mount path')
  .regex(new RegExp(`^[^${MOUNT_PATH_CONTROL}]*$`), 'must not contain control characters or line separators');

export const DiskPressureEvent = z.object({
  ...base,
  type: z.literal('disk_pressure'),
  data: z.object({
    mount: MountPath,
    level: z.enum(['warn', 'high']),
    usedPercent: z.number().min(0).max(100),
    freeBytes: z.number().nonnegative().optional(),
  }),
});
export const DiskOkEvent = z.object({
  ...base,
  type: z.literal('disk_ok'),
  data: z.object({ mount: MountPath, usedPercent: z.number().min(0).max(100) }),
});
/** Written by the hub from the node's status topic (birth / last will). */
export const NodeOnlineEvent = z.object({
  ...base,
  type: z.literal('node_online'),
  data: z.object({
    session: z.number().int().nonnegative(),
    /** The status message's connection within the session (NodeStatus.connection). */
    connection: z.number().int().nonnegative().optional(),
    version: z.string().max(64).optional(),
    /** From the birth message: the node's events up to this seq are still on their way (catching up). */
    backlogUntilSeq: z.number().int().nonnegative().optional(),
    backlogEvents: z.number().int().nonnegative().optional(),
    services: z.record(ServiceName, ServiceSnapshot).optional(),
  }),
});
export const NodeOfflineEvent = z.object({
  ...base,
  type: z.literal('node_offline'),
  data: z.object({ session: z.number().int().nonnegative(), connection: z.number().int().nonnegative().optional(), reason: z.string().max(64).optional() }),
});
export const NodeHeartbeatEvent = z.object({
  ...base,
  type: z.literal('node_heartbeat'),
  data: z
    .object({
      uptimeSec: z.number().nonnegative().optional(),
      load1: z.number().nonnegative().optional(),
      memUsedPercent: z.number().min(0).max(100).optional(),
      services: z.number().int().nonnegative().optional(),
      /** Busy share of all cores since the previous heartbeat (from os.cpus() counters). */
      cpuPercent: z.number().min(0).max(100).optional(),
      load5: z.number().nonnegative().optional(),
      load15: z.number().nonnegative().optional(),
      /** The agent process's own resident memory. */
      agentRssMb: z.number().nonnegative().optional(),
      /**
       * Host health (docs/host-health.md), each absent where the platform does not
       * report it, so heartbeats of older agents stay valid. CPU package / SoC temperature.
       */
      cpuTempC: z.number().min(-100).max(250).optional(),
      /** Memory the kernel can hand out without swapping (MemAvailable). */
      memAvailableMb: z.number().nonnegative().optional(),
      /**
       * The Raspberry Pi firmware's throttling bits (`vcgencmd get_throttled`):
       * 0x1 under-voltage, 0x2 ARM frequency capped, 0x4 throttled, 0x8 soft
       * temperature limit, now; the same shifted by 16 since boot.
       */
      throttled: z.number().int().nonnegative().max(0xffffffff).optional(),
    })
    .optional(),
});

/** A container on the node that belongs to no desired service (and is not opted out with `homelab.keep=true`). */
export const UnmanagedContainer = z.object({
  name: ContainerName,
  state: z.string().max(32),
  image: z.string().max(256).optional(),
  /** From the compose labels, when compose created it: what `homelab adopt` drafts from (docs/services-yaml.md, "Adopting what runs"). */
  compose: z
    .object({
      project: z.string().max(128),
      service: z.string().max(128),
      /** The first of `com.docker.compose.project.config_files`. */
      configFile: z.string().max(512).optional(),
      workingDir: z.string().max(512).optional(),
      /** `com.docker.compose.version`: which compose created it (1.x: `docker-compose`, 2.x: `docker compose`). */
      version: z.string().max(32).optional(),
    })
    .optional(),
  /** The container reports a Docker health state, so a healthcheck is defined. Absent: none, or not known (not running). */
  healthcheck: z.boolean().optional(),
  /** Labelled `homelab.adopt=false`: never drafted into services.yaml (the agent itself is). */
  adopt: z.literal(false).optional(),
});
export type UnmanagedContainer = z.infer<typeof UnmanagedContainer>;

/**
 * The agent's complete scan an inventory follows: every monitored service of
 * desired-state `desiredRevision` got its verdict (healthy, unhealthy or
 * starting) in an event sent before this one, in agent session `session`.
 * Events of this session have seq ≥ `sessionFromSeq`; a lower one is older
 * evidence (an earlier process of the agent).
 */
export const InventoryScan = z.object({
  session: z.number().int().nonnegative(),
  /** As in DesiredStateMessage; a plain token, as it reaches finding texts. */
  desiredRevision: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  sessionFromSeq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
});
export type InventoryScan = z.infer<typeof InventoryScan>;

/**
 * The node's containers of no desired service; sent when the set changes, after
 * each agent start, and after the first complete scan of each desired state (`scan`).
 */
export const NodeInventoryEvent = z.object({
  ...base,
  type: z.literal('node_inventory'),
  data: z.object({
    unmanaged: z.array(UnmanagedContainer).max(256),
    /** More than 256: the list holds the first 256 by name. */
    truncated: z.boolean().optional(),
    /** Absent until the agent's first complete scan of a desired state in this session. */
    scan: InventoryScan.optional(),
  }),
});
export const DockerUnreachableEvent = z.object({
  ...base,
  type: z.literal('docker_unreachable'),
  data: z.object({ detail: z.string().max(500) }),
});
export const DockerReachableEvent = z.object({
  ...base,
  type: z.literal('docker_reachable'),
  data: z.object({ version: z.string().max(64).optional() }).optional(),
});

/** The agent's outbox hit its byte cap and dropped its oldest events: a known gap in the history. */
export const EventsDroppedEvent = z.object({
  ...base,
  type: z.literal('events_dropped'),
  data: z.object({
    count: z.number().int().positive(),
    fromSeq: z.number().int().nonnegative().optional(),
    toSeq: z.number().int().nonnegative().optional(),
    reason: z.string().max(64).optional(),
  }),
});

export const HomelabEvent = z.discriminatedUnion('type', [
  EventsDroppedEvent,
  ServiceHealthyEvent,
  ServiceRecoveredEvent,
  ServiceStartingEvent,
  ServiceUnhealthyEvent,
  DiskPressureEvent,
  DiskOkEvent,
  NodeOnlineEvent,
  NodeOfflineEvent,
  NodeHeartbeatEvent,
  NodeInventoryEvent,
  DockerUnreachableEvent,
  DockerReachableEvent,
]);
export type HomelabEvent = z.infer<typeof HomelabEvent>;
export type EventType = HomelabEvent['type'];

/** Most events one message on `nodes/<node>/events` may carry (docs/mqtt.md). */
export const MAX_EVENTS_PER_MESSAGE = 1000;
/** An events payload: one event, or a batch of them. Built once (building a zod schema costs ten times a parse). */
export const EventsPayload = z.union([HomelabEvent, z.array(HomelabEvent).min(1).max(MAX_EVENTS_PER_MESSAGE)]);

/**
 * One line of `events/YYYY-MM-DD/<stream>.jsonl`: the event as received plus
 * the hub's receive time. The date directory comes from `rx` (the hub's clock),
 * never from the agent's `ts`, so a skewed agent clock cannot reorder days.
 */
export const StoredEvent = z.object({
  event: HomelabEvent,
  rx: IsoTime,
});
export type StoredEvent = z.infer<typeof StoredEvent>;

/** Stream of events the hub itself derives (node_online/node_offline from the status topic). */
export const HUB_STREAM = '_hub';
