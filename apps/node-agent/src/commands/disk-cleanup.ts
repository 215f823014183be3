import { containersOf, type CleanupItem, type CleanupReport, type ServiceSpec } from '@homelab/contracts';
import type { CleanupDockerPort, DanglingImage, StoppedContainer, UnusedVolume } from '../docker/docker-port';
import { errorMessage } from '../errors';

/** Containers and images with this label set to `true` are never removed by disk_cleanup. */
export const KEEP_LABEL = 'homelab.keep';
const COMPOSE_PROJECT = 'com.docker.compose.project';
const COMPOSE_SERVICE = 'com.docker.compose.service';

export type KeptItem = CleanupItem & { why: string };

export interface CleanupPlan {
  containers: StoppedContainer[];
  images: DanglingImage[];
  /** Only when the command says `removeVolumes` (the node's services.yaml opted in). */
  volumes: UnusedVolume[];
  kept: KeptItem[];
}

export interface CleanupOptions {
  removeVolumes?: boolean;
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

/** The desired service whose compose project a volume belongs to (compose labels its volumes with the project). */
function volumeOwner(v: UnusedVolume, desired: Record<string, ServiceSpec>): string | null {
  const project = v.labels[COMPOSE_PROJECT];
  if (!project) return null;
  for (const [service, spec] of Object.entries(desired)) if (spec.compose?.project === project) return service;
  return null;
}

/**
 * Pure: what a cleanup removes and what it keeps on purpose. Volumes are
 * part of it only when passed (opt-in); even then a volume of a desired
 * service's compose project is kept: its container may just be down.
 */
export function planCleanup(
  stopped: StoppedContainer[],
  dangling: DanglingImage[],
  desired: Record<string, ServiceSpec>,
  volumes: UnusedVolume[] = [],
): CleanupPlan {
  const plan: CleanupPlan = { containers: [], images: [], volumes: [], kept: [] };
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
  for (const v of volumes) {
    const item = { kind: 'volume' as const, id: v.name, name: v.name, bytes: v.bytes };
    const owner = volumeOwner(v, desired);
    if (keep(v.labels)) plan.kept.push({ ...item, why: 'label homelab.keep=true' });
    else if (owner) plan.kept.push({ ...item, why: `desired service ${owner}` });
    else plan.volumes.push(v);
  }
  return plan;
}

async function planOf(docker: CleanupDockerPort, desired: Record<string, ServiceSpec>, opts: CleanupOptions): Promise<CleanupPlan> {
  const volumes = opts.removeVolumes ? await docker.unusedVolumes() : [];
  return planCleanup(await docker.stoppedContainers(), await docker.danglingImages(), desired, volumes);
}

/** Bytes a plan would reclaim (build cache not counted: the engine tells only when pruning). */
export function plannedBytes(plan: CleanupPlan): number {
  const sum = (xs: { bytes: number }[]) => xs.reduce((n, x) => n + x.bytes, 0);
  return sum(plan.containers) + sum(plan.images) + sum(plan.volumes);
}

/**
 * A dry run: what runCleanup would remove now, and what it would keep.
 * Build cache is not counted (the engine tells its size only when pruning).
 */
export async function previewCleanup(
  docker: CleanupDockerPort,
  desired: Record<string, ServiceSpec>,
  opts: CleanupOptions = {},
): Promise<{ report: CleanupReport; lines: string[] }> {
  const p = await planOf(docker, desired, opts);
  const removed: CleanupItem[] = [
    ...p.containers.map((c) => ({ kind: 'container' as const, id: c.id, name: c.name, bytes: c.bytes })),
    ...p.images.map((i) => ({ kind: 'image' as const, id: i.id, bytes: i.bytes })),
    ...p.volumes.map((v) => ({ kind: 'volume' as const, id: v.name, name: v.name, bytes: v.bytes })),
  ];
  const bytes = plannedBytes(p);
  const lines = [
    ...p.containers.map((c) => `would remove container ${c.name} (${c.id.slice(0, 12)}, ${c.bytes} bytes)`),
    ...p.images.map((i) => `would remove dangling image ${i.id.slice(0, 19)} (${i.bytes} bytes)`),
    ...p.volumes.map((v) => `would remove unused volume ${v.name} (${v.bytes} bytes)`),
    ...p.kept.map((k) => `would keep ${k.kind} ${k.name ?? k.id.slice(0, 19)}: ${k.why}`),
    `would reclaim ${bytes} bytes, plus the build cache`,
  ];
  return { report: { removed: removed.slice(0, 1000), kept: p.kept.slice(0, 1000), reclaimedBytes: bytes }, lines };
}

export interface CleanupRun {
  report: CleanupReport;
  lines: string[];
  /** Removals the engine refused (e.g. an image still used); the run goes on. */
  failures: number;
}

/** Carries out a plan: containers first (so their images become removable), then images, volumes if asked, then the build cache. */
export async function runCleanup(docker: CleanupDockerPort, desired: Record<string, ServiceSpec>, opts: CleanupOptions = {}): Promise<CleanupRun> {
  const plan = await planOf(docker, desired, opts);
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
  for (const v of plan.volumes) {
    try {
      await docker.removeVolume(v.name);
      removed.push({ kind: 'volume', id: v.name, name: v.name, bytes: v.bytes });
      lines.push(`removed unused volume ${v.name} (${v.bytes} bytes)`);
    } catch (err) {
      // 409: a container started using it since the plan. Kept, not a failure.
      kept.push({ kind: 'volume', id: v.name, name: v.name, bytes: v.bytes, why: 'in use or refused' });
      lines.push(`kept volume ${v.name}: ${errorMessage(err)}`);
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
