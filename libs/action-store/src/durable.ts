import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * The few filesystem calls the store makes. Injectable so tests can "crash"
 * the store after any single step (RELIABILITY.md, test 6) and check what a
 * restart finds.
 */
export interface FsOps {
  /** `mkdir -p`; true when it created something. */
  mkdirp(dir: string): Promise<boolean>;
  readdir(dir: string): Promise<string[]>;
  readFile(file: string): Promise<string>;
  exists(file: string): Promise<boolean>;
  /** Creates a new file with `data` and fsyncs it before closing. */
  writeSynced(file: string, data: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(file: string): Promise<void>;
  fsyncDir(dir: string): Promise<void>;
}

export const nodeFsOps: FsOps = {
  async mkdirp(dir) {
    return (await fs.mkdir(dir, { recursive: true })) !== undefined;
  },
  readdir: (dir) => fs.readdir(dir),
  readFile: (file) => fs.readFile(file, 'utf8'),
  async exists(file) {
    try {
      await fs.lstat(file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  },
  async writeSynced(file, data) {
    const fh = await fs.open(file, 'wx', 0o644);
    try {
      await fh.writeFile(data, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  rename: (from, to) => fs.rename(from, to),
  unlink: (file) => fs.unlink(file),
  async fsyncDir(dir) {
    const fh = await fs.open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
};

/**
 * Replaces `file` with `data` so that a crash leaves the old or the new
 * content, never a torn or empty file: temp in the same folder → fsync →
 * rename over → fsync the folder (RELIABILITY.md, SQLite `unixSync`). The temp
 * name starts with a dot and ends in `.tmp`, which `init()` sweeps.
 */
export async function writeAtomic(ops: FsOps, file: string, data: string): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file, '.json')}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await ops.writeSynced(tmp, data);
    await ops.rename(tmp, file);
  } catch (err) {
    await ops.unlink(tmp).catch(() => undefined);
    throw err;
  }
  await ops.fsyncDir(dir);
}

/** Moves a file between folders and makes both directory entries durable. */
export async function moveDurable(ops: FsOps, from: string, to: string): Promise<void> {
  await ops.rename(from, to);
  await ops.fsyncDir(path.dirname(to));
  if (path.dirname(from) !== path.dirname(to)) await ops.fsyncDir(path.dirname(from));
}

export function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
