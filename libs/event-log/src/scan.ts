import fs from 'node:fs/promises';
import path from 'node:path';
import { DATE_DIR_PATTERN, eventsDir, parseLogFileName, type LogFileRef } from './layout';

/** Every log file per stream, in read order: by date; for a date with both forms only the plain file (the gz is a copy in progress). */
export type LogIndex = Map<string, LogFileRef[]>;

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export async function listDateDirs(root: string): Promise<string[]> {
  return (await readdirOrEmpty(eventsDir(root))).filter((d) => DATE_DIR_PATTERN.test(d)).sort();
}

export async function scanLog(root: string): Promise<LogIndex> {
  const index: LogIndex = new Map();
  for (const date of await listDateDirs(root)) {
    const byStream = new Map<string, LogFileRef>();
    for (const name of await readdirOrEmpty(path.join(eventsDir(root), date))) {
      const ref = parseLogFileName(date, name);
      if (!ref) continue;
      const seen = byStream.get(ref.stream);
      if (!seen || (seen.kind === 'gz' && ref.kind === 'plain')) byStream.set(ref.stream, ref);
    }
    for (const ref of byStream.values()) {
      const list = index.get(ref.stream);
      if (list) list.push(ref);
      else index.set(ref.stream, [ref]);
    }
  }
  return index;
}
