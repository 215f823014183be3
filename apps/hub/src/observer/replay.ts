import { emptyWorld, type World } from '@homelab/contracts';
import { FsEventLogReader, type EventLogReader } from '@homelab/event-log';
import type { Logger } from '@homelab/logging';
import { catchUp, type CatchUpProgress, type Positions } from './catch-up';
import { checkpointOf } from './checkpoint';
import { writeFoldAndCheckpoint } from './fold-state';
import { DEFAULT_NODE_TTL_MS, DEFAULT_SERVICE_TTL_MS, prune, type DesiredView } from './prune';
import { writeWorld } from './world-files';

export interface ReplayOptions {
  aliases: Record<string, string>;
  log?: Logger;
  /** Write world files, fold state and checkpoint (default true), as `homelab replay` does. */
  write?: boolean;
  /** Defaults to an FsEventLogReader on `root`. */
  reader?: EventLogReader;
  /** Ghost pruning of the view; the hub's settings, for identical world files. Defaults as the observer's. */
  ttl?: { serviceTtlMs: number; nodeTtlMs: number };
  /** Desired state, as the hub's supervisor has it: what it lists is never pruned. */
  desired?: DesiredView;
  /** Events between two progress calls (default 100,000; the end of every stream is reported too). */
  progressEvery?: number;
}

export interface ReplayResult {
  /** The view written to the world files (ghosts pruned). */
  world: World;
  applied: number;
  /** Records whose seq was not above the stream's high-water (a log written by an older tool, or hand-edited). */
  skipped: number;
  streams: number;
  /** Lines that were not valid events, skipped (only known with the default reader). */
  corruptLines: number | null;
  /** What pruning left out of the view. */
  pruned: { nodes: string[]; services: string[] };
}

/**
 * Folds the whole log from zero into a fresh world. With `write`, replaces
 * world files, fold state and checkpoint: stop the hub first (`homelab
 * replay` checks state/hub.lock), its observer would race with these writes.
 */
export async function replay(root: string, opts: ReplayOptions, onProgress?: (p: CatchUpProgress) => void): Promise<ReplayResult> {
  const fsReader = opts.reader ? null : new FsEventLogReader({ root, ...(opts.log ? { log: opts.log } : {}) });
  const reader = opts.reader ?? fsReader!;
  const fold = emptyWorld();
  const positions: Positions = new Map();
  const res = await catchUp(reader, fold, positions, { aliases: opts.aliases }, onProgress, opts.progressEvery);
  const ttl = opts.ttl ?? { serviceTtlMs: DEFAULT_SERVICE_TTL_MS, nodeTtlMs: DEFAULT_NODE_TTL_MS };
  const view = prune(fold, { ...ttl, desired: opts.desired });
  if (opts.write !== false) {
    await writeWorld(root, view.world);
    await writeFoldAndCheckpoint(root, fold, checkpointOf(positions, fold, opts.aliases));
  }
  return {
    world: view.world,
    applied: res.applied,
    skipped: res.skipped,
    streams: positions.size,
    corruptLines: fsReader ? fsReader.corruptLines : null,
    pruned: { nodes: view.nodes, services: view.services },
  };
}
