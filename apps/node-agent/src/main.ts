import Docker from 'dockerode';
import { systemClock } from '@homelab/contracts';
import { createLogger, type Logger } from '@homelab/logging';
import { NodeAgent } from './agent';
import type { AgentConfig } from './config';
import { DockerodePort } from './docker/docker-dockerode';
import { statfsUsage } from './watch/disk-watch';
import { HostHealthSampler, systemHostHealthSources } from './watch/host-health';
import { createHostStats } from './watch/host-stats';
import { connectMqttJs } from './delivery/mqtt-link';

/** Bound on each host health source (docs/host-health.md); the heartbeat never waits for it. */
const HOST_SAMPLE_TIMEOUT_MS = 2000;

/**
 * Builds the real agent — dockerode on the configured socket, MQTT.js to the
 * broker — and starts it. The only place that creates real clients. Resolves
 * once local state is loaded and the loops run; it does not wait for the
 * broker (events wait in the outbox) or for Docker (docker_unreachable).
 */
export async function runAgent(config: AgentConfig, log: Logger = createLogger('agent')): Promise<NodeAgent> {
  const docker = new DockerodePort(new Docker({ socketPath: config.dockerSocket }));
  const agent = new NodeAgent({
    config,
    log,
    clock: systemClock,
    docker,
    capabilities: { inventory: docker, cleanup: docker },
    connectMqtt: connectMqttJs,
    hostStats: createHostStats(new HostHealthSampler(systemHostHealthSources(HOST_SAMPLE_TIMEOUT_MS), HOST_SAMPLE_TIMEOUT_MS)),
    diskUsage: statfsUsage,
  });
  await agent.start();
  return agent;
}
