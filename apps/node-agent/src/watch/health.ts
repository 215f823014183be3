import type { ContainerObservation, ProbeSpec, ServiceStatus } from '@homelab/contracts';
import type { ProbeFailure } from './probe-scheduler';

/** A monitored desired service with its container names resolved (`containersOf`). */
export interface WatchedService {
  name: string;
  containers: string[];
  /** Probes declared in services.yaml (run by the ProbeScheduler). */
  probes?: readonly ProbeSpec[];
}

/** What the watcher knows besides Docker's view of the containers. */
export interface Signals {
  /** Containers in a restart burst (CrashLoopDetector) → restarts seen in its window. */
  crashLoops?: ReadonlyMap<string, number>;
  /** The service's first failing probe. */
  probe?: ProbeFailure;
  /** False while a probe has not reported yet: a healthy-looking service waits for it. */
  probesSettled?: boolean;
}

export type HealthStatus = ServiceStatus;

export interface Assessment {
  status: HealthStatus;
  /** Set when unhealthy: one of KNOWN_UNHEALTHY_REASONS. */
  reason?: 'containers_not_running' | 'restart_loop' | 'container_unhealthy' | 'probe_failed' | 'mqtt_unreachable';
  /** The failing probe, when a probe decided the verdict. */
  probe?: string;
  /** One human line naming the containers at fault. */
  detail?: string;
  /** One entry per container of the service, in spec order; a missing one has state `missing`. */
  containers: ContainerObservation[];
}

export const MISSING = 'missing';
const DETAIL_MAX = 500;

/**
 * Pure verdict on one service from what Docker reports, first match wins:
 * 1. a container `restarting`, or in a restart burst (crash-loop.ts) → unhealthy
 *    `restart_loop` (a restart would not help);
 * 2. a container missing or not `running` → unhealthy `containers_not_running`;
 * 3. a container whose healthcheck says `unhealthy` → unhealthy `container_unhealthy`;
 * 4. a healthcheck still `starting` → starting (running, no verdict yet: not missing);
 * 5. a failing probe → unhealthy `mqtt_unreachable` (mqtt probe) or `probe_failed`
 *    (tcp, http), naming the probe;
 * 6. a probe without its first result → starting;
 * 7. otherwise healthy.
 */
export function assessService(service: WatchedService, observations: readonly ContainerObservation[], signals: Signals = {}): Assessment {
  const byName = new Map(observations.map((o) => [o.name, o]));
  const containers = service.containers.map((name) => byName.get(name) ?? { name, state: MISSING });

  const restarting = containers.filter((c) => c.state === 'restarting');
  if (restarting.length) return unhealthy('restart_loop', restarting, containers, (c) => `restarting (${c.restartCount ?? '?'} restarts)`);
  const loops = signals.crashLoops;
  const bursting = loops ? containers.filter((c) => loops.has(c.name)) : [];
  if (bursting.length) return unhealthy('restart_loop', bursting, containers, (c) => `${loops!.get(c.name)} restarts in a burst (${c.state})`);

  const notRunning = containers.filter((c) => c.state !== 'running');
  if (notRunning.length) return unhealthy('containers_not_running', notRunning, containers, (c) => c.state);

  const failing = containers.filter((c) => c.health === 'unhealthy');
  if (failing.length) return unhealthy('container_unhealthy', failing, containers, () => 'healthcheck unhealthy');

  if (containers.some((c) => c.health === 'starting')) return { status: 'starting', containers };

  const probe = signals.probe;
  if (probe) {
    const reason = probe.type === 'mqtt' ? 'mqtt_unreachable' : 'probe_failed';
    return { status: 'unhealthy', reason, detail: clip(probe.detail), probe: probe.probe, containers };
  }
  if (signals.probesSettled === false) return { status: 'starting', containers };
  return { status: 'healthy', containers };
}

function unhealthy(
  reason: NonNullable<Assessment['reason']>,
  culprits: ContainerObservation[],
  containers: ContainerObservation[],
  describe: (c: ContainerObservation) => string,
): Assessment {
  const detail = clip(culprits.map((c) => `${c.name}: ${describe(c)}`).join('; '));
  return { status: 'unhealthy', reason, detail, containers };
}

const clip = (detail: string) => (detail.length > DETAIL_MAX ? `${detail.slice(0, DETAIL_MAX - 1)}…` : detail);
