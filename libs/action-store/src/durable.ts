import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import { fsAtomicWriteSteps, writeFileAtomic, type AtomicWriteSteps } from '@homelab/durable-fs';

/**
 * The few filesystem calls the store makes. Injectable so tests can "crash"
 * the store after any single step (docs/reliability.md, "Crash mid-transition") and check what a
 * restart finds.
 */
export interface FsOps extends AtomicWriteSteps {
  /** `mkdir -p`; true when it created something. */
  mkdirp(dir: string): Promise<boolean>;
  readdir(dir: string): Promise<string[]>;
  /** Reads a regular file; anything else (directory, symlink, FIFO) fails with code ENOTREG. */
  readFile(file: string): Promise<string>;
  exists(file: string): Promise<boolean>;
  /** Hard link; fails with EEXIST when `to` exists (the claim of a transition). */
  link(from: string, to: string): Promise<void>;
}

export const nodeFsOps: FsOps = {
  ...fsAtomicWriteSteps,
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
  link: (from, to) => fs.link(from, to),
};

/**
 * Replaces `file` with `data` so that a crash leaves the old or the new
 * content, never a torn or empty file (libs/durable-fs; docs/reliability.md,
 * "A rename is durable only once its folder is fsynced"). The temp name
 * starts with a dot and ends in `.tmp`, which `init()` sweeps.
 */
export function writeAtomic(ops: FsOps, file: string, data: string): Promise<void> {
  return writeFileAtomic(file, data, { steps: ops });
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
