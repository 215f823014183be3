import fs from 'node:fs/promises';
import path from 'node:path';

async function fsyncPath(p: string): Promise<void> {
  const fh = await fs.open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Replaces files in one directory atomically, each one all-or-nothing:
 * write temp → fsync → rename → fsync the directory (RELIABILITY.md: the
 * rename is durable only once its directory is). One directory fsync covers
 * all renames. The files are not replaced together: a crash may leave some
 * new and some old, which callers must be able to tell (see world-files.ts).
 */
export async function writeFilesAtomic(dir: string, files: { name: string; data: string }[]): Promise<void> {
  if (files.length === 0) return;
  await fs.mkdir(dir, { recursive: true });
  const temps: { tmp: string; final: string }[] = [];
  try {
    for (const f of files) {
      const final = path.join(dir, f.name);
      const tmp = `${final}.tmp-${process.pid}`;
      temps.push({ tmp, final });
      const fh = await fs.open(tmp, 'w', 0o644);
      try {
        await fh.writeFile(f.data, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
  } catch (err) {
    await Promise.all(temps.map((t) => fs.rm(t.tmp, { force: true })));
    throw err;
  }
  for (const t of temps) await fs.rename(t.tmp, t.final);
  await fsyncPath(dir);
}

/** Reads a file, or null when it does not exist. */
export async function readIfExists(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
