import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * A new or renamed directory entry is durable only once its directory is
 * fsynced (RELIABILITY.md, SQLite `unixSync`).
 */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** `mkdir -p` that fsyncs the parent of every directory it created. */
export async function mkdirDurable(dir: string): Promise<boolean> {
  const first = await fs.mkdir(dir, { recursive: true });
  if (first === undefined) return false;
  // Parents of everything from the first created directory down to `dir`.
  let cur = path.resolve(dir);
  const created: string[] = [];
  for (;;) {
    created.push(cur);
    if (cur === path.resolve(first)) break;
    const up = path.dirname(cur);
    if (up === cur) break;
    cur = up;
  }
  for (const d of created) await fsyncDir(path.dirname(d));
  return true;
}

/**
 * Replaces `file` all-or-nothing: temp → fsync → rename → fsync the directory.
 * A crash leaves either the old or the new content, never a mix.
 */
export async function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  const fh = await fs.open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(path.dirname(file));
}
