import fs from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { FoldedSeqs, IsoTime, WorldNode, WorldService } from '@homelab/contracts';
import { writeFileAtomic } from '@homelab/durable-fs';
import { STATE_DIR } from '../observer/checkpoint';

export const HISTORY_DIR = 'history';
/** Its `version` field (docs/upgrade.md). */
export const HISTORY_FILE_VERSION = 1;

/**
 * `state/history/<cut>.json.gz` (docs/observer-runtime.md, "World at a past
 * instant"): the fold (ghosts included) of every stream up to `streams[s]`,
 * where no record folded was received after `cut`. A world at any instant at
 * or after `cut` starts here and reads only what follows.
 */
export const HistorySnapshot = z.object({
  version: z.literal(HISTORY_FILE_VERSION),
  /** The latest `rx` folded, over all streams. */
  cut: IsoTime,
  /** aliasesHash(NODE_ALIAS_MAP) of the fold; a snapshot made with another map is not used. */
  aliases: z.string(),
  streams: z.record(
    z.string(),
    z.object({ file: z.string().min(1), offset: z.number().int().nonnegative(), seq: z.number().int().nonnegative(), maxRx: IsoTime }),
  ),
  fold: z.object({ services: z.record(z.string(), WorldService), nodes: z.record(z.string(), WorldNode), folded: FoldedSeqs }),
});
export type HistorySnapshot = z.infer<typeof HistorySnapshot>;

export const historyDir = (root: string) => path.join(root, STATE_DIR, HISTORY_DIR);
/** `2026-03-01T10-00-00.000Z.json.gz`: sorts by time, no `:` (not portable in file names). */
export const snapshotName = (cut: string) => `${cut.replace(/:/g, '-')}.json.gz`;
const cutOfName = (name: string): string | null => {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2})-(\d{2})-(\d{2}(?:\.\d+)?Z)\.json\.gz$/.exec(name);
  return m ? `${m[1]}:${m[2]}:${m[3]}` : null;
};

/** The snapshots on disk, oldest first, by the cut their names carry. */
export async function listSnapshots(root: string): Promise<{ cut: string; file: string }[]> {
  let names: string[];
  try {
    names = await fs.readdir(historyDir(root));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .map((name) => ({ cut: cutOfName(name), file: path.join(historyDir(root), name) }))
    .filter((s): s is { cut: string; file: string } => s.cut !== null)
    .sort((a, b) => Date.parse(a.cut) - Date.parse(b.cut));
}

export async function writeSnapshot(root: string, snap: HistorySnapshot): Promise<string> {
  const file = path.join(historyDir(root), snapshotName(snap.cut));
  await writeFileAtomic(file, gzipSync(JSON.stringify(snap)), { mkdirMode: 0o700 });
  return file;
}

/** The snapshot in `file`, or null when it does not parse (it is then skipped: the fold reads further back). */
export async function readSnapshot(file: string): Promise<HistorySnapshot | null> {
  try {
    const res = HistorySnapshot.safeParse(JSON.parse(gunzipSync(await fs.readFile(file)).toString('utf8')));
    return res.success ? res.data : null;
  } catch {
    return null;
  }
}

/**
 * The newest usable snapshot for a world at `at`: cut at or before `at`, made
 * with the same alias map, readable. Older ones are tried when a newer one is
 * damaged; none means a fold from the start of the log.
 */
export async function snapshotFor(root: string, at: Date, aliases: string): Promise<HistorySnapshot | null> {
  const candidates = (await listSnapshots(root)).filter((s) => Date.parse(s.cut) <= at.getTime()).reverse();
  for (const c of candidates) {
    const snap = await readSnapshot(c.file);
    if (snap && snap.aliases === aliases && Object.values(snap.streams).every((s) => Date.parse(s.maxRx) <= at.getTime())) return snap;
  }
  return null;
}
