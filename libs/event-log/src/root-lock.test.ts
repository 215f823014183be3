import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireRootLock, classifyLock, inspectRootLock, lockPath, RootLockedError, type RootLockInfo } from './root-lock';
import { captureLog, tempRoot } from './test-support';

let root: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ root, cleanup } = await tempRoot());
});
afterEach(() => cleanup());

const lock = (over: Partial<RootLockInfo> = {}): RootLockInfo => ({
  pid: 4242,
  host: 'vps',
  owner: 'hub',
  startedAt: '2026-03-01T00:00:00.000Z',
  bootId: 'boot-a',
  ...over,
});
const me = { pid: 1, host: 'vps', bootId: 'boot-a' };
const alive = (pids: number[]) => (pid: number) => pids.includes(pid);

describe('root lock', () => {
  it.each([
    ['a live process on this host', lock(), false, [4242], 'held'],
    ['a process that is gone', lock(), false, [], 'stale'],
    ['a process from before the last reboot', lock({ bootId: 'boot-b' }), false, [4242], 'stale'],
    ['our pid, written by a previous process (container pid 1)', lock({ pid: 1 }), false, [1], 'stale'],
    ['our pid, held by this process', lock({ pid: 1 }), true, [1], 'held'],
    ['another host or container', lock({ host: 'laptop' }), false, [], 'foreign'],
  ] as const)('classifies a lock of %s', (_what, l, heldByMe, pids, expected) => {
    expect(classifyLock(l, me, heldByMe, alive([...pids])).status).toBe(expected);
  });

  it('is created by the first owner, refused to a second while held, and removed on release', async () => {
    const first = await acquireRootLock(root, { owner: 'hub' });
    expect(JSON.parse(await fs.readFile(lockPath(root), 'utf8'))).toMatchObject({ pid: process.pid, host: os.hostname(), owner: 'hub' });
    expect(await inspectRootLock(root)).toMatchObject({ status: 'held' });
    const err = await acquireRootLock(root, { owner: 'replay' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RootLockedError);
    expect((err as Error).message).toMatch(/is in use by hub pid \d+/);
    await first.release();
    await first.release();
    expect(await inspectRootLock(root)).toEqual({ status: 'free' });
  });

  it('replaces the lock of a process that died (kill -9) and logs it', async () => {
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid!;
    await new Promise((r) => child.on('exit', r));
    await fs.mkdir(`${root}/state`, { recursive: true });
    await fs.writeFile(lockPath(root), JSON.stringify({ ...lock({ pid, host: os.hostname() }), bootId: undefined }));
    const cap = captureLog();
    const l = await acquireRootLock(root, { owner: 'hub', log: cap.logger });
    expect(l.info.pid).toBe(process.pid);
    expect(cap.entries.some((e) => e.msg.startsWith('replacing a lock'))).toBe(true);
    await l.release();
  });

  it('takes over a lock from another host only when asked to (the hub), never for replay', async () => {
    await fs.mkdir(`${root}/state`, { recursive: true });
    await fs.writeFile(lockPath(root), JSON.stringify(lock({ host: 'old-container-id' })));
    await expect(acquireRootLock(root, { owner: 'replay' })).rejects.toThrow(/another host or container/);
    const l = await acquireRootLock(root, { owner: 'hub', takeOverForeign: true });
    await l.release();
  });

  it('does not remove a lock another process wrote after ours was replaced', async () => {
    const l = await acquireRootLock(root, { owner: 'hub' });
    const other = JSON.stringify(lock({ host: os.hostname(), pid: 99999 }));
    await fs.writeFile(lockPath(root), other);
    await l.release();
    expect(await fs.readFile(lockPath(root), 'utf8')).toBe(other);
  });
});
