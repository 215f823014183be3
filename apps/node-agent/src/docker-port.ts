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
