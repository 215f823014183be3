import path from 'node:path';
import { z } from 'zod';
import { FoldedSeqs, WorldNode, WorldService, type World } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { readJsonFile, writeFilesAtomic } from '@homelab/durable-fs';
import { CHECKPOINT_FILE, STATE_DIR, type ObserverCheckpoint } from './checkpoint';
import { stableJson } from './world-files';

export const FOLD_FILE = 'observer_fold.json';
/** Its `version` field (docs/upgrade.md). */
export const FOLD_FILE_VERSION = 1;

/**
 * `state/observer_fold.json`: the observer's fold as it is, ghosts included.
 * The world files are a pruned view of it (prune.ts); resuming from the view
 * would fold a returning ghost differently from a replay (its `since`, its
 * disks), so the observer resumes from this file and never from the view.
 * Written in the same atomic step as the checkpoint, just before it.
 */
export const ObserverFoldFile = z.object({
  version: z.literal(FOLD_FILE_VERSION),
  services: z.record(z.string(), WorldService),
  nodes: z.record(z.string(), WorldNode),
  folded: FoldedSeqs,
});

export const foldPath = (root: string) => path.join(root, STATE_DIR, FOLD_FILE);

/** Pure: the bytes of the fold file. */
export function renderFold(world: World): string {
  return stableJson({ version: FOLD_FILE_VERSION, services: world.services, nodes: world.nodes, folded: world.folded ?? {} });
}

/** The persisted fold, or null (full replay) when missing or invalid. */
export async function loadFold(root: string, log: Logger): Promise<World | null> {
  const file = foldPath(root);
  const res = await readJsonFile(file, ObserverFoldFile);
  if (res.kind === 'missing') return null;
  if (res.kind === 'corrupt') {
    log.warn({ file, problems: res.problem }, 'observer fold state is invalid; replaying the whole log');
    return null;
  }
  return { services: res.value.services, nodes: res.value.nodes, folded: res.value.folded };
}

/**
 * Writes the fold, then the checkpoint (renamed in that order): after a crash
 * in between the fold is ahead of the checkpoint, and re-read events are
 * skipped by seq; the reverse is detected at start and replays from zero.
 */
export async function writeFoldAndCheckpoint(root: string, world: World, cp: ObserverCheckpoint): Promise<void> {
  await writeFilesAtomic(path.join(root, STATE_DIR), [
    { name: FOLD_FILE, data: renderFold(world) },
    { name: CHECKPOINT_FILE, data: stableJson(cp) },
  ]);
}
