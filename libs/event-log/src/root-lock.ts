import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { IsoTime } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { fsyncDir, mkdirDurable, parseJsonText } from './durable';

/**
 * `state/hub.lock`: who owns a data root. The event log has one writer (its
 * dedup keeps the high-water seq in memory), and `homelab replay` rewrites the
 * world files and the checkpoint, so neither may run beside a hub on the same
 * root. Created with O_EXCL; removed by its owner on a clean stop; a lock whose
 * process is gone (kill -9, reboot) is replaced by the next owner.
 */
export const ROOT_LOCK_FILE = path.join('state', 'hub.lock');

export const RootLockInfo = z.object({
  pid: z.number().int().positive(),
  /** os.hostname() of the owner: a pid says nothing on another machine or container. */
  host: z.string(),
  owner: z.enum(['hub', 'replay']),
  startedAt: IsoTime,
  /** Linux boot id: a lock from before a reboot is stale whatever its pid. */
  bootId: z.string().optional(),
});
export type RootLockInfo = z.infer<typeof RootLockInfo>;

export type LockStatus =
  | { status: 'free' }
  /** A live process on this host holds it. */
  | { status: 'held'; lock: RootLockInfo; why: string }
  /** Written on another host (or container): whether it lives cannot be checked from here. */
  | { status: 'foreign'; lock: RootLockInfo; why: string }
  /** Its owner is gone; the next owner replaces it. */
  | { status: 'stale'; lock: RootLockInfo | null; why: string };

export interface Identity {
  pid: number;
  host: string;
  bootId?: string | undefined;
}

/** Lock files this process holds: our own pid in a lock means "held" only if it is one of these. */
const heldHere = new Set<string>();

export const lockPath = (root: string) => path.join(root, ROOT_LOCK_FILE);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function bootId(): Promise<string | undefined> {
  try {
    return (await fs.readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Pure: what a lock means to `me`. */
export function classifyLock(lock: RootLockInfo, me: Identity, heldByMe: boolean, alive: (pid: number) => boolean): LockStatus {
  const who = `${lock.owner} pid ${lock.pid} on ${lock.host} since ${lock.startedAt}`;
  if (lock.host !== me.host) return { status: 'foreign', lock, why: `${who} (another host or container: cannot check whether it still runs)` };
  if (lock.bootId && me.bootId && lock.bootId !== me.bootId) return { status: 'stale', lock, why: `${who}, before the last reboot` };
  // In a container the hub is often pid 1 again after a restart: our own pid is a previous life unless we hold it.
  if (lock.pid === me.pid)
    return heldByMe ? { status: 'held', lock, why: `${who} (this process)` } : { status: 'stale', lock, why: `${who}, a previous process with this pid` };
  return alive(lock.pid) ? { status: 'held', lock, why: who } : { status: 'stale', lock, why: `${who}, which is no longer running` };
}

async function identity(): Promise<Identity> {
  return { pid: process.pid, host: os.hostname(), bootId: await bootId() };
}

/** Reads and classifies the lock of `root` without touching it. */
export async function inspectRootLock(root: string): Promise<LockStatus> {
  const file = lockPath(root);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'free' };
    throw err;
  }
  const parsed = parseJsonText(text, RootLockInfo);
  if (parsed.kind === 'corrupt') return { status: 'stale', lock: null, why: `${file} is not a valid lock file` };
  return classifyLock(parsed.value, await identity(), heldHere.has(file), isAlive);
}

export class RootLockedError extends Error {
  override name = 'RootLockedError';
  constructor(
    readonly root: string,
    readonly holder: Extract<LockStatus, { lock: RootLockInfo }>,
  ) {
    super(`data root ${root} is in use by ${holder.why} (lock ${lockPath(root)})`);
  }
}

export interface AcquireOptions {
  owner: RootLockInfo['owner'];
  now?: () => Date;
  log?: Logger | undefined;
  /**
   * Replace a lock written on another host. The hub does: after its container
   * is recreated it has a new hostname, and a stale lock must never keep a
   * self-healing hub down. `homelab replay` does not (it has `--force`).
   */
  takeOverForeign?: boolean;
}

export interface RootLock {
  readonly info: RootLockInfo;
  /** Removes the lock if it is still ours. Idempotent. */
  release(): Promise<void>;
}

/** Takes the lock of `root`, replacing a stale one; throws RootLockedError when it is in use. */
export async function acquireRootLock(root: string, opts: AcquireOptions): Promise<RootLock> {
  const file = lockPath(root);
  const me = await identity();
  const info: RootLockInfo = {
    pid: me.pid,
    host: me.host,
    owner: opts.owner,
    startedAt: (opts.now?.() ?? new Date()).toISOString(),
    ...(me.bootId ? { bootId: me.bootId } : {}),
  };
  await mkdirDurable(path.dirname(file));
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.writeFile(file, `${JSON.stringify(info)}\n`, { flag: 'wx', mode: 0o644 });
      await fsyncDir(path.dirname(file));
      heldHere.add(file);
      return { info, release: () => releaseLock(file, info, opts.log) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw err;
    }
    const st = await inspectRootLock(root);
    if (st.status === 'held' || (st.status === 'foreign' && !opts.takeOverForeign)) throw new RootLockedError(root, st);
    if (st.status !== 'free') {
      opts.log?.warn({ lock: file, previous: st.lock, reason: st.why }, 'replacing a lock its owner left behind');
      // Remove only what was judged stale (re-read just before), then create exclusively
      // again; the window in which a second process could also do this is tiny.
      const now = await fs.readFile(file, 'utf8').catch(() => null);
      if (now !== null && st.lock && !sameLock(now, st.lock)) continue;
      await fs.rm(file, { force: true });
    }
  }
}

function sameLock(text: string, lock: RootLockInfo): boolean {
  const res = parseJsonText(text, RootLockInfo);
  return res.kind === 'ok' && res.value.pid === lock.pid && res.value.startedAt === lock.startedAt && res.value.host === lock.host;
}

async function releaseLock(file: string, info: RootLockInfo, log: Logger | undefined): Promise<void> {
  if (!heldHere.has(file)) return;
  heldHere.delete(file);
  try {
    const res = parseJsonText(await fs.readFile(file, 'utf8'), RootLockInfo);
    if (res.kind === 'corrupt' || res.value.pid !== info.pid || res.value.startedAt !== info.startedAt) {
      log?.warn({ lock: file }, 'lock file was replaced by another process; leaving it');
      return;
    }
    await fs.rm(file, { force: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log?.warn({ err, lock: file }, 'could not remove lock file');
  }
}
