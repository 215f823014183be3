import { emptyWorld, type World } from '@homelab/contracts';
import type { EventLogReader, LogPosition } from '@homelab/event-log';
import { batchesOf } from '../observer/catch-up';
import { fold, isFolded } from '../observer/fold';
import { prune, type PruneOptions } from '../observer/prune';
import type { HistorySnapshot } from './snapshot-file';

/** Where a cut of one stream ends: the position after its last record folded, and the latest `rx` among them. */
export interface StreamCut extends LogPosition {
  seq: number;
  maxRx: string;
}

export interface FoldUntil {
  /** The fold (ghosts included), mutated from the snapshot's copy. */
  fold: World;
  cuts: Record<string, StreamCut>;
  applied: number;
  /** The snapshot started from (its cut time), or null for a fold from the start of the log. */
  basedOn: string | null;
}

/**
 * The log as it stood at `at` (docs/observer-runtime.md, "World at a past
 * instant"): every stream read in file and line order up to its first record
 * received (`rx`) after `at`, folded in stream order as a replay does. With a
 * snapshot whose every stream ends at or before `at`, only what follows its
 * positions is read. Pure over the reader: nothing is written.
 */
export async function foldUntil(reader: EventLogReader, at: Date, aliases: Record<string, string>, snapshot: HistorySnapshot | null): Promise<FoldUntil> {
  const limit = at.getTime();
  const world: World = snapshot ? structuredClone(snapshot.fold) : emptyWorld();
  const cuts: Record<string, StreamCut> = snapshot ? structuredClone(snapshot.streams) : {};
  let applied = 0;
  for (const stream of await reader.streams()) {
    const from = Object.hasOwn(cuts, stream) ? cuts[stream]! : null;
    batches: for await (const { file, records, ends } of batchesOf(reader, stream, from ? { file: from.file, offset: from.offset } : null)) {
      for (let i = 0; i < records.length; i++) {
        const record = records[i]!;
        if (Date.parse(record.rx) > limit) break batches;
        if (!isFolded(world, stream, record.event.seq)) {
          fold(world, record, { aliases }, stream);
          applied++;
        }
        const prev = Object.hasOwn(cuts, stream) ? cuts[stream]!.maxRx : record.rx;
        cuts[stream] = { file, offset: ends[i]!, seq: record.event.seq, maxRx: Date.parse(prev) > Date.parse(record.rx) ? prev : record.rx };
      }
    }
  }
  return { fold: world, cuts, applied, basedOn: snapshot?.cut ?? null };
}

/** The view at `at`: the fold until then, ghosts pruned as the observer prunes (against the newest time in that world, never the wall clock). */
export async function worldAt(
  reader: EventLogReader,
  at: Date,
  opts: { aliases: Record<string, string>; snapshot: HistorySnapshot | null } & PruneOptions,
): Promise<{ world: World; applied: number; basedOn: string | null }> {
  const res = await foldUntil(reader, at, opts.aliases, opts.snapshot);
  const view = prune(res.fold, opts).world;
  return { world: { services: view.services, nodes: view.nodes }, applied: res.applied, basedOn: res.basedOn };
}
