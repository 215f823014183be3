import fs from 'node:fs/promises';
import { Action } from '@homelab/contracts';
import { actionFilesOf, encodeAction } from '@homelab/action-store';
import { writeFileAtomic } from '@homelab/durable-fs';
import type { Logger } from '@homelab/logging';

/** One step from layout `from` to `from + 1`; it must be safe to run again after a crash part-way. */
export interface LayoutMigration {
  from: number;
  what: string;
  run(root: string, log: Logger): Promise<{ changed: number; skipped: number }>;
}

/**
 * Layout 1 → 2: every action file gets `"version": 1` (its format; earlier
 * files had none). Its other keys and values are kept as they are. A file that
 * is not a valid action is left byte for byte as it is: the action store moves
 * it to the quarantine at start, as it does with any unreadable action file
 * (docs/actions.md). Stamped files are skipped, so a re-run finishes the job.
 */
async function stampActionFiles(root: string, log: Logger): Promise<{ changed: number; skipped: number }> {
  let changed = 0;
  let skipped = 0;
  for (const file of await actionFilesOf(root)) {
    const text = await fs.readFile(file, 'utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (json !== null && typeof json === 'object' && 'version' in json) continue;
    if (!Action.safeParse(json).success) {
      skipped += 1;
      log.warn({ file }, 'upgrade: not a valid action file, left unchanged (the action store quarantines it)');
      continue;
    }
    const { mode } = await fs.stat(file);
    await writeFileAtomic(file, encodeAction(json as Action), { mode: mode & 0o777 });
    changed += 1;
  }
  return { changed, skipped };
}

/** Every step, in order; the last one's `from + 1` is LAYOUT_VERSION (checked by a test). */
export const MIGRATIONS: readonly LayoutMigration[] = [{ from: 1, what: 'action files carry their format version', run: stampActionFiles }];
