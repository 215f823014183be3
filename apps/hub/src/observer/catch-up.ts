import type { LogPosition, EventLogReader, RecordBatch } from '@homelab/event-log';
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
 * (mutated) and advancing `positions` (mutated) past the records folded —
 * after each batch, and before an exception from the fold leaves — so that
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
    for await (const { file, records, ends } of batchesOf(reader, stream, positions.get(stream) ?? null)) {
      // The position moves with every record folded; it is stored once per batch, and on the way out if a fold throws.
      let done = 0;
      try {
        for (; done < records.length; done++) {
          const record = records[done]!;
          if (isFolded(world, stream, record.event.seq)) res.skipped++;
          else {
            fold(world, record, opts, stream);
            res.applied++;
          }
          if (onProgress && (res.applied + res.skipped) % progressEvery === 0)
            onProgress({ stream, file, offset: ends[done]!, applied: res.applied, skipped: res.skipped });
        }
      } finally {
        if (done > 0) {
          positions.set(stream, { file, offset: ends[done - 1]! });
          moved = true;
        }
      }
    }
    if (moved) res.moved++;
    const end = positions.get(stream);
    if (onProgress && moved && end) onProgress({ stream, file: end.file, offset: end.offset, applied: res.applied, skipped: res.skipped });
  }
  return res;
}

/** The reader's batches when it has them (no promise per record), else its records one by one. */
export function batchesOf(reader: EventLogReader, stream: string, from: LogPosition | null): AsyncIterable<RecordBatch> {
  if (reader.readBatches) return reader.readBatches(stream, from);
  const records = reader.read(stream, from);
  return {
    async *[Symbol.asyncIterator]() {
      for await (const { record, next } of records) yield { file: next.file, records: [record], ends: [next.offset] };
    },
  };
}
