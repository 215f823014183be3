import type { ContainerObservation } from '@homelab/contracts';

/** Docker event actions the watcher reacts to (health_status arrives as `health_status: <state>`). */
export const WATCHED_ACTIONS = ['die', 'start', 'stop', 'restart', 'destroy', 'oom', 'pause', 'unpause', 'health_status'] as const;
export type WatchedAction = (typeof WATCHED_ACTIONS)[number];

export interface ContainerEvent {
  /** Container name without the leading slash. */
  name: string;
  action: WatchedAction;
}

export interface EventSubscription {
  close(): void;
}

export interface EventHandlers {
  onEvent(e: ContainerEvent): void;
  /** The stream ended or failed; subscribe again once Docker answers. */
  onEnd(err?: unknown): void;
}

/**
 * What the agent needs from Docker, nothing more. Failures are AgentErrors:
 * `docker_unreachable` (socket down), `docker_failed` (Docker answered with an
 * error), `not_found` (restart of a container that does not exist).
 */
export interface DockerPort {
  /** Current state of the named containers; a name without a container is simply absent. */
  observe(names: readonly string[]): Promise<ContainerObservation[]>;
  /** Restarts (and so starts, if stopped) the container with exactly this name. */
  restartContainer(name: string, stopTimeoutSec: number): Promise<void>;
  /** Subscribes to lifecycle events of all containers; the caller filters by name. */
  subscribe(handlers: EventHandlers): Promise<EventSubscription>;
  /** Resolves with the engine version when Docker answers. */
  ping(): Promise<{ version?: string }>;
}

/** A container that is not running (exited, created, dead): a disk_cleanup candidate. */
export interface StoppedContainer {
  id: string;
  /** Without the leading slash. */
  name: string;
  labels: Record<string, string>;
  /** Bytes of its writable layer (SizeRw), 0 when unknown. */
  bytes: number;
}

/** An untagged (dangling) image. */
export interface DanglingImage {
  id: string;
  labels: Record<string, string>;
  bytes: number;
}

/** A volume no container uses (Docker's `dangling` filter). */
export interface UnusedVolume {
  name: string;
  labels: Record<string, string>;
  /** From the engine's disk usage report; 0 when unknown. */
  bytes: number;
}

/** The Docker side of disk_cleanup. */
export interface CleanupDockerPort {
  stoppedContainers(): Promise<StoppedContainer[]>;
  danglingImages(): Promise<DanglingImage[]>;
  /** Removes a container by id, never its volumes. */
  removeContainer(id: string): Promise<void>;
  /** Removes an image by id (no force: an image in use stays). */
  removeImage(id: string): Promise<void>;
  /** Volumes no container uses; only asked when the command says `removeVolumes`. */
  unusedVolumes(): Promise<UnusedVolume[]>;
  removeVolume(name: string): Promise<void>;
  /** Prunes the build cache; `supported: false` when the engine has no build-cache API. */
  pruneBuildCache(): Promise<{ supported: boolean; bytes: number; detail?: string }>;
}

/** One container as `docker ps -a` lists it. */
export interface ListedContainer {
  /** Without the leading slash. */
  name: string;
  state: string;
  image?: string;
  labels: Record<string, string>;
  /** The engine's status text (`Up 5 minutes (healthy)`); it names a health state only when a healthcheck is defined. */
  status?: string;
}

/** The Docker side of the inventory. */
export interface InventoryDockerPort {
  listAllContainers(): Promise<ListedContainer[]>;
}

/**
 * What an engine offers beyond DockerPort, declared by whoever builds the
 * agent (main.ts gives DockerodePort for both) rather than guessed from the
 * port's methods. Each is optional so a test's fake Docker need not grow:
 * - inventory: without it the agent never sends `node_inventory`, so the
 *   hub's first-contact barrier holds and it proposes nothing for the node
 *   (docs/supervisor.md, "First contact");
 * - cleanup: without it `disk_cleanup` is refused as unsupported.
 */
export interface DockerCapabilities {
  inventory?: InventoryDockerPort;
  cleanup?: CleanupDockerPort;
}
