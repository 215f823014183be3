import { z } from 'zod';
import { ContainerName, IsoTime, NodeName, ServiceName } from './names';

/** How `redeploy` recreates a service (seed: always `docker-compose` v1 unless told otherwise). */
export const ComposeSpec = z.strictObject({
  /** Absolute path of the compose file on the node. */
  file: z.string().startsWith('/', 'must be an absolute path').max(512).refine((p) => !p.split('/').includes('..'), 'must not contain ..'),
  project: ServiceName,
  /** Compose service name; defaults to the service's own name. */
  service: ServiceName.optional(),
  build: z.boolean().default(false),
  command: z.enum(['docker-compose', 'docker compose']).default('docker-compose'),
});
export type ComposeSpec = z.infer<typeof ComposeSpec>;

export const ServiceSpec = z.strictObject({
  /** `false` skips the service entirely (e.g. homeassistant on chelsty-ha, which has no agent watching it). */
  monitor: z.boolean().default(true),
  description: z.string().max(200).optional(),
  /** Containers that make up the service; defaults to one container named like the service. */
  containers: z.array(ContainerName).min(1).max(32).optional(),
  compose: ComposeSpec.optional(),
});
export type ServiceSpec = z.infer<typeof ServiceSpec>;

/** The contents of `hosts/<node>/services.yaml`. */
export const HostServicesFile = z.strictObject({
  node: NodeName,
  services: z.record(ServiceName, ServiceSpec).default({}),
});
export type HostServicesFile = z.infer<typeof HostServicesFile>;

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
