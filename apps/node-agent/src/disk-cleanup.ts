import { containersOf, type CleanupItem, type CleanupReport, type ServiceSpec } from '@homelab/contracts';
import type { CleanupDockerPort, DanglingImage, StoppedContainer } from './docker-port';
import { errorMessage } from './errors';

/** Containers and images with this label set to `true` are never removed by disk_cleanup. */
export const KEEP_LABEL = 'homelab.keep';
const COMPOSE_PROJECT = 'com.docker.compose.project';
const COMPOSE_SERVICE = 'com.docker.compose.service';

export type KeptItem = CleanupItem & { why: string };

export interface CleanupPlan {
  containers: StoppedContainer[];
  images: DanglingImage[];
  kept: KeptItem[];
}

const keep = (labels: Record<string, string>) => labels[KEEP_LABEL]?.toLowerCase() === 'true';

/**
 * Which stopped containers belong to a desired service: by container name
 * (`containers`, default the service name) or by compose labels matching the
 * service's `compose` (project + service). Every desired service counts,
 * `monitor: false` ones too: they are still wanted on this node.
 */
export function desiredOwner(c: Pick<StoppedContainer, 'name' | 'labels'>, desired: Record<string, ServiceSpec>): string | null {
  for (const [service, spec] of Object.entries(desired)) {
    if (containersOf(service, spec).includes(c.name)) return service;
    const compose = spec.compose;
    if (compose && c.labels[COMPOSE_PROJECT] === compose.project && c.labels[COMPOSE_SERVICE] === (compose.service ?? service)) return service;
  }
  return null;
}

/** Pure: what a cleanup removes and what it keeps on purpose. Volumes are never part of it. */
export function planCleanup(stopped: StoppedContainer[], dangling: DanglingImage[], desired: Record<string, ServiceSpec>): CleanupPlan {
  const plan: CleanupPlan = { containers: [], images: [], kept: [] };
  for (const c of stopped) {
    const item = { kind: 'container' as const, id: c.id, name: c.name, bytes: c.bytes };
    if (keep(c.labels)) plan.kept.push({ ...item, why: 'label homelab.keep=true' });
    else {
      const owner = desiredOwner(c, desired);
      if (owner) plan.kept.push({ ...item, why: `desired service ${owner}` });
      else plan.containers.push(c);
    }
  }
  for (const i of dangling) {
    if (keep(i.labels)) plan.kept.push({ kind: 'image', id: i.id, bytes: i.bytes, why: 'label homelab.keep=true' });
    else plan.images.push(i);
  }
  return plan;
}

/** Bytes a plan would reclaim (build cache not counted: the engine tells only when pruning). */
export function plannedBytes(plan: CleanupPlan): number {
  return plan.containers.reduce((n, c) => n + c.bytes, 0) + plan.images.reduce((n, i) => n + i.bytes, 0);
}

export interface CleanupRun {
  report: CleanupReport;
  lines: string[];
  /** Removals the engine refused (e.g. an image still used); the run goes on. */
  failures: number;
}

/** Carries out a plan: containers first (so their images become removable), then images, then the build cache. */
export async function runCleanup(docker: CleanupDockerPort, desired: Record<string, ServiceSpec>): Promise<CleanupRun> {
  const plan = planCleanup(await docker.stoppedContainers(), await docker.danglingImages(), desired);
  const removed: CleanupItem[] = [];
  const kept: KeptItem[] = [...plan.kept];
  const lines: string[] = [];
  let failures = 0;
  for (const c of plan.containers) {
    try {
      await docker.removeContainer(c.id);
      removed.push({ kind: 'container', id: c.id, name: c.name, bytes: c.bytes });
      lines.push(`removed container ${c.name} (${c.id.slice(0, 12)}, ${c.bytes} bytes)`);
    } catch (err) {
      failures += 1;
      kept.push({ kind: 'container', id: c.id, name: c.name, bytes: c.bytes, why: 'remove failed' });
      lines.push(`could not remove container ${c.name}: ${errorMessage(err)}`);
    }
  }
  for (const i of plan.images) {
    try {
      await docker.removeImage(i.id);
      removed.push({ kind: 'image', id: i.id, bytes: i.bytes });
      lines.push(`removed dangling image ${i.id.slice(0, 19)} (${i.bytes} bytes)`);
    } catch (err) {
      // Typically 409: a kept container still uses it. Not a failure of the cleanup.
      kept.push({ kind: 'image', id: i.id, bytes: i.bytes, why: 'in use or refused' });
      lines.push(`kept dangling image ${i.id.slice(0, 19)}: ${errorMessage(err)}`);
    }
  }
  const cache = await docker.pruneBuildCache().catch((err: unknown) => ({ supported: false, bytes: 0, detail: errorMessage(err) }));
  if (cache.supported) {
    if (cache.bytes > 0) removed.push({ kind: 'build_cache', id: 'build-cache', bytes: cache.bytes });
    lines.push(`build cache pruned: ${cache.bytes} bytes`);
  } else lines.push(`build cache not pruned: ${cache.detail ?? 'not supported by this engine'}`);
  for (const k of plan.kept) lines.push(`kept ${k.kind} ${k.name ?? k.id.slice(0, 19)}: ${k.why}`);
  const reclaimedBytes = removed.reduce((n, r) => n + r.bytes, 0);
  lines.push(`reclaimed ${reclaimedBytes} bytes`);
  return { report: { removed: removed.slice(0, 1000), kept: kept.slice(0, 1000), reclaimedBytes }, lines, failures };
}
