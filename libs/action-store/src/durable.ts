import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * The few filesystem calls the store makes. Injectable so tests can "crash"
 * the store after any single step (docs/reliability.md, "Crash mid-transition") and check what a
 * restart finds.
 */
export interface FsOps {
  /** `mkdir -p`; true when it created something. */
  mkdirp(dir: string): Promise<boolean>;
  readdir(dir: string): Promise<string[]>;
  /** Reads a regular file; anything else (directory, symlink, FIFO) fails with code ENOTREG. */
  readFile(file: string): Promise<string>;
  exists(file: string): Promise<boolean>;
  /** Creates a new file with `data` and fsyncs it before closing. */
  writeSynced(file: string, data: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Hard link; fails with EEXIST when `to` exists (the claim of a transition). */
  link(from: string, to: string): Promise<void>;
  unlink(file: string): Promise<void>;
  fsyncDir(dir: string): Promise<void>;
}

export const nodeFsOps: FsOps = {
  async mkdirp(dir) {
    return (await fs.mkdir(dir, { recursive: true })) !== undefined;
  },
  readdir: (dir) => fs.readdir(dir),
  async readFile(file) {
    // No symlink is followed and a FIFO cannot block the read (a stray `x.json` of any kind is just unreadable).
    const fh = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      if (!(await fh.stat()).isFile()) throw Object.assign(new Error(`${file} is not a regular file`), { code: 'ENOTREG' });
      return await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  },
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
  link: (from, to) => fs.link(from, to),
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
 * rename over → fsync the folder (docs/reliability.md, "A rename is durable
 * only once its folder is fsynced"). The temp
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

export function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

export function isExists(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'EEXIST';
}

/** A path that exists but is not a regular file we may read (a directory, a symlink, a FIFO). */
export function isNotRegular(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOTREG' || code === 'EISDIR' || code === 'ELOOP';
}
