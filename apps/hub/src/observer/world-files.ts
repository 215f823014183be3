import path from 'node:path';
import { z } from 'zod';
import { WORLD_FILE_VERSION, WorldNodesFile, WorldServicesFile, type World } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { parseJsonText, readIfExists, replaceFiles } from '@homelab/durable-fs';

export const WORLD_DIR = 'world';
export const SERVICES_FILE = 'services.json';
export const NODES_FILE = 'nodes.json';

export interface RenderedWorld {
  services: string;
  nodes: string;
}

/** Keys sorted at every level, so equal worlds give equal bytes whatever order they were built in. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  // fromEntries defines own properties, so even a `__proto__` key survives.
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
  );
}

export const stableJson = (v: unknown): string => `${JSON.stringify(sortKeys(v), null, 2)}\n`;

/** Pure: the bytes of `world/services.json` and `world/nodes.json`. */
export function renderWorld(world: World): RenderedWorld {
  const folded = world.folded ?? {};
  return {
    services: stableJson({ version: WORLD_FILE_VERSION, services: world.services, folded }),
    nodes: stableJson({ version: WORLD_FILE_VERSION, nodes: world.nodes, folded }),
  };
}

/** Replaces both world files, each whole (see loadWorld for a crash between the two). */
export async function writeWorld(root: string, world: World): Promise<void> {
  await writeRenderedWorld(root, renderWorld(world));
}

/**
 * Each file whole for readers, not fsynced: the world files are a view the
 * next run rewrites whenever its bytes differ (docs/observer-runtime.md, "Fold
 * state and world files"), so they need not hold up the disk.
 */
export async function writeRenderedWorld(root: string, r: RenderedWorld): Promise<void> {
  await replaceFiles(path.join(root, WORLD_DIR), [
    { name: SERVICES_FILE, data: r.services },
    { name: NODES_FILE, data: r.nodes },
  ]);
}

/** The world files' current bytes, or null when either is missing. */
export async function readRenderedWorld(root: string): Promise<RenderedWorld | null> {
  const dir = path.join(root, WORLD_DIR);
  const [services, nodes] = await Promise.all([readIfExists(path.join(dir, SERVICES_FILE)), readIfExists(path.join(dir, NODES_FILE))]);
  return services === null || nodes === null ? null : { services, nodes };
}

function parseFile<T extends z.ZodType>(schema: T, text: string, file: string, log: Logger): z.infer<T> | null {
  const res = parseJsonText(text, schema);
  if (res.kind === 'ok') return res.value;
  log.warn({ file, problems: res.problem }, 'world file is invalid; starting from an empty world (full replay)');
  return null;
}

const sameSeqs = (a: Record<string, number>, b: Record<string, number>) =>
  Object.keys(a).length === Object.keys(b).length && Object.keys(a).every((k) => Object.hasOwn(b, k) && a[k] === b[k]);

/**
 * Loads both world files; null (start empty, replay all) when either is
 * missing or invalid, or when they come from different writes (a crash
 * between the two renames): their `folded` seqs then differ.
 */
export async function loadWorld(root: string, log: Logger): Promise<World | null> {
  const dir = path.join(root, WORLD_DIR);
  const [servicesText, nodesText] = await Promise.all([readIfExists(path.join(dir, SERVICES_FILE)), readIfExists(path.join(dir, NODES_FILE))]);
  if (servicesText === null && nodesText === null) return null;
  if (servicesText === null || nodesText === null) {
    log.warn({ dir }, 'only one of the world files exists; starting from an empty world (full replay)');
    return null;
  }
  const services = parseFile(WorldServicesFile, servicesText, path.join(dir, SERVICES_FILE), log);
  const nodes = parseFile(WorldNodesFile, nodesText, path.join(dir, NODES_FILE), log);
  if (!services || !nodes) return null;
  const folded = nodes.folded ?? {};
  if (!sameSeqs(services.folded ?? {}, folded)) {
    log.warn({ dir }, 'world files come from different writes; starting from an empty world (full replay)');
    return null;
  }
  return { services: services.services, nodes: nodes.nodes, folded };
}
