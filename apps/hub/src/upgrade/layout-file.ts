import path from 'node:path';
import { z } from 'zod';

/**
 * `<root>/layout.json`: the version of the data root as a whole (docs/upgrade.md).
 * Layout 1 is a root without this file (written before roots carried it); each
 * later layout is reached from the one before by a step in migrations.ts.
 * It also versions the files that carry no `version` of their own: the event
 * log's `.jsonl` lines, whose bytes stay as they are so ingest and replay cost
 * nothing (docs/benchmarks.md), and the event log's quarantine.
 */
export const LAYOUT_FILE = 'layout.json';

/** The layout this hub writes and reads. */
export const LAYOUT_VERSION = 2;

/** Layout of a root without layout.json. */
export const UNMARKED_LAYOUT = 1;

export const LayoutMigration = z.object({ from: z.number().int(), to: z.number().int(), at: z.string(), by: z.string().max(64) });

export const LayoutFile = z.object({
  version: z.number().int().positive(),
  /** The program version that last wrote the file. */
  writtenBy: z.string().max(64),
  /** Every upgrade this root went through, oldest first. */
  migrations: z.array(LayoutMigration),
});
export type LayoutFile = z.infer<typeof LayoutFile>;

export const layoutPath = (root: string) => path.join(root, LAYOUT_FILE);
