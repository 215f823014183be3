import { createHash } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import type { World } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import type { Positions } from './catch-up';
import { readJsonFile, writeFilesAtomic } from '@homelab/durable-fs';
import { stableJson } from './world-files';

export const STATE_DIR = 'state';
export const CHECKPOINT_FILE = 'observer_checkpoint.json';
/** Its `version` field (docs/upgrade.md). */
export const CHECKPOINT_FILE_VERSION = 1;

/** Where the observer has read each stream up to, and the highest seq folded from it. */
export const StreamCheckpoint = z.object({
  /** Relative to `events/`; may name the `.jsonl` of a day since gzipped: the offset is uncompressed, so it still holds. */
  file: z.string().min(1),
  offset: z.number().int().nonnegative(),
  seq: z.number().int().nonnegative(),
});
export type StreamCheckpoint = z.infer<typeof StreamCheckpoint>;

/** `state/observer_checkpoint.json`; deleting it forces a full replay. */
export const ObserverCheckpoint = z.object({
  version: z.literal(CHECKPOINT_FILE_VERSION),
  /**
   * aliasesHash(NODE_ALIAS_MAP) the fold was made with. Node names are
   * canonicalised while folding, so another alias map needs a replay from
   * zero (entries under an old name then disappear). Absent in checkpoints of
   * older versions: they replay once.
   */
  aliases: z.string().optional(),
  streams: z.record(z.string(), StreamCheckpoint),
});
export type ObserverCheckpoint = z.infer<typeof ObserverCheckpoint>;

export const checkpointPath = (root: string) => path.join(root, STATE_DIR, CHECKPOINT_FILE);

/** Stable over key order: `sha256:` + hex of the sorted JSON of the map. */
export function aliasesHash(aliases: Record<string, string>): string {
  return `sha256:${createHash('sha256').update(stableJson(aliases)).digest('hex')}`;
}

/** The checkpoint, or null (full replay) when missing or invalid. */
export async function loadCheckpoint(root: string, log: Logger): Promise<ObserverCheckpoint | null> {
  const file = checkpointPath(root);
  const res = await readJsonFile(file, ObserverCheckpoint);
  if (res.kind === 'missing') return null;
  if (res.kind === 'corrupt') {
    log.warn({ file, problems: res.problem }, 'observer checkpoint is invalid; replaying the whole log');
    return null;
  }
  return res.value;
}

/** The checkpoint for the current positions: the seq recorded is the world's high-water of that stream. */
export function checkpointOf(positions: Positions, world: World, aliases: Record<string, string>): ObserverCheckpoint {
  const streams: ObserverCheckpoint['streams'] = {};
  for (const [stream, pos] of positions) {
    const seq = world.folded && Object.hasOwn(world.folded, stream) ? world.folded[stream] : undefined;
    if (seq !== undefined) streams[stream] = { file: pos.file, offset: pos.offset, seq };
  }
  return { version: CHECKPOINT_FILE_VERSION, aliases: aliasesHash(aliases), streams };
}

export async function writeCheckpoint(root: string, cp: ObserverCheckpoint): Promise<void> {
  await writeFilesAtomic(path.join(root, STATE_DIR), [{ name: CHECKPOINT_FILE, data: stableJson(cp) }]);
}

/** Why the fold cannot be resumed with this checkpoint (it is older than it), or null. */
export function behindCheckpoint(cp: ObserverCheckpoint, world: World): string | null {
  for (const [stream, c] of Object.entries(cp.streams)) {
    const seq = world.folded && Object.hasOwn(world.folded, stream) ? world.folded[stream] : undefined;
    if (seq === undefined || seq < c.seq) return `the fold state is older than the checkpoint (stream ${stream})`;
  }
  return null;
}
