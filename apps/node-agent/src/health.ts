import type { ContainerObservation } from '@homelab/contracts';

/** A monitored desired service with its container names resolved (`containersOf`). */
export interface WatchedService {
  name: string;
  containers: string[];
}

export type HealthStatus = 'healthy' | 'unhealthy' | 'unknown';

export interface Assessment {
  status: HealthStatus;
  /** Set when unhealthy: one of KNOWN_UNHEALTHY_REASONS. */
  reason?: 'containers_not_running' | 'restart_loop' | 'container_unhealthy';
  /** One human line naming the containers at fault. */
  detail?: string;
  /** One entry per container of the service, in spec order; a missing one has state `missing`. */
  containers: ContainerObservation[];
}

export const MISSING = 'missing';
const DETAIL_MAX = 500;

/**
 * Pure verdict on one service from what Docker reports, first match wins:
 * 1. a container `restarting` → unhealthy `restart_loop` (a restart would not help);
 * 2. a container missing or not `running` → unhealthy `containers_not_running`;
 * 3. a container whose healthcheck says `unhealthy` → unhealthy `container_unhealthy`;
 * 4. a healthcheck still `starting` → unknown (no event until it settles);
 * 5. otherwise healthy.
 */
export function assessService(service: WatchedService, observations: readonly ContainerObservation[]): Assessment {
  const byName = new Map(observations.map((o) => [o.name, o]));
  const containers = service.containers.map((name) => byName.get(name) ?? { name, state: MISSING });

  const restarting = containers.filter((c) => c.state === 'restarting');
  if (restarting.length) return unhealthy('restart_loop', restarting, containers, (c) => `restarting (${c.restartCount ?? '?'} restarts)`);

  const notRunning = containers.filter((c) => c.state !== 'running');
  if (notRunning.length) return unhealthy('containers_not_running', notRunning, containers, (c) => c.state);

  const failing = containers.filter((c) => c.health === 'unhealthy');
  if (failing.length) return unhealthy('container_unhealthy', failing, containers, () => 'healthcheck unhealthy');

  if (containers.some((c) => c.health === 'starting')) return { status: 'unknown', containers };
  return { status: 'healthy', containers };
}

function unhealthy(
  reason: NonNullable<Assessment['reason']>,
  culprits: ContainerObservation[],
  containers: ContainerObservation[],
  describe: (c: ContainerObservation) => string,
): Assessment {
  let detail = culprits.map((c) => `${c.name}: ${describe(c)}`).join('; ');
  if (detail.length > DETAIL_MAX) detail = `${detail.slice(0, DETAIL_MAX - 1)}…`;
  return { status: 'unhealthy', reason, detail, containers };
}
