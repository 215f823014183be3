import { emptyWorld, type World } from '@homelab/contracts';
import { FsEventLogReader, type EventLogReader } from '@homelab/event-log';
import type { Logger } from '@homelab/logging';
import { catchUp, type CatchUpProgress, type Positions } from './catch-up';
import { checkpointOf, writeCheckpoint } from './checkpoint';
import { writeWorld } from './world-files';

export interface ReplayOptions {
  aliases: Record<string, string>;
  log?: Logger;
  /** Write world files and the checkpoint (default true), as `homelab replay` does. */
  write?: boolean;
  /** Defaults to an FsEventLogReader on `root`. */
  reader?: EventLogReader;
}

export interface ReplayResult {
  world: World;
  applied: number;
  /** Records whose seq was not above the stream's high-water (a log written by an older tool, or hand-edited). */
  skipped: number;
  streams: number;
  /** Lines that were not valid events, skipped (only known with the default reader). */
  corruptLines: number | null;
}

/**
 * Folds the whole log from zero into a fresh world. With `write`, replaces
 * world files and checkpoint: stop the hub first, its observer would
 * otherwise race with these writes.
 */
export async function replay(root: string, opts: ReplayOptions, onProgress?: (p: CatchUpProgress) => void): Promise<ReplayResult> {
  const fsReader = opts.reader ? null : new FsEventLogReader({ root, ...(opts.log ? { log: opts.log } : {}) });
  const reader = opts.reader ?? fsReader!;
  const world = emptyWorld();
  const positions: Positions = new Map();
  const res = await catchUp(reader, world, positions, { aliases: opts.aliases }, onProgress);
  if (opts.write !== false) {
    await writeWorld(root, world);
    await writeCheckpoint(root, checkpointOf(positions, world));
  }
  return { world, applied: res.applied, skipped: res.skipped, streams: positions.size, corruptLines: fsReader ? fsReader.corruptLines : null };
}
