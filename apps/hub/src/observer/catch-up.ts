import type { LogPosition, EventLogReader } from '@homelab/event-log';
import type { World } from '@homelab/contracts';
import { fold, isFolded, type FoldOptions } from './fold';

/** A Map, not a record: stream names come from the log and may be any node name (`constructor`, …). */
export type Positions = Map<string, LogPosition>;

export interface CatchUpResult {
  /** Events folded into the world. */
  applied: number;
  /** Events read that the world already contained (re-read after a crash before the checkpoint write). */
  skipped: number;
  /** Streams whose position moved. */
  moved: number;
}

export interface CatchUpProgress {
  stream: string;
  /** File being read (relative to `events/`) and the uncompressed offset reached in it. */
  file: string;
  offset: number;
  applied: number;
  skipped: number;
}

/**
 * Reads every stream from its position to its end, folding into `world`
 * (mutated) and advancing `positions` (mutated) record by record, so that
 * whatever happens midway both describe the same prefix of the log. Ordering
 * is by file and line (seq) within a stream, never by `ts`.
 */
export async function catchUp(
  reader: EventLogReader,
  world: World,
  positions: Positions,
  opts: FoldOptions,
  onProgress?: (p: CatchUpProgress) => void,
  progressEvery = 100_000,
): Promise<CatchUpResult> {
  const res: CatchUpResult = { applied: 0, skipped: 0, moved: 0 };
  for (const stream of await reader.streams()) {
    let moved = false;
    for await (const { record, next } of reader.read(stream, positions.get(stream) ?? null)) {
      if (isFolded(world, stream, record.event.seq)) res.skipped++;
      else {
        fold(world, record, opts, stream);
        res.applied++;
      }
      positions.set(stream, next);
      moved = true;
      if (onProgress && (res.applied + res.skipped) % progressEvery === 0) onProgress({ stream, file: next.file, offset: next.offset, applied: res.applied, skipped: res.skipped });
    }
    if (moved) res.moved++;
    const end = positions.get(stream);
    if (onProgress && moved && end) onProgress({ stream, file: end.file, offset: end.offset, applied: res.applied, skipped: res.skipped });
  }
  return res;
}
