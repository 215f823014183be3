import fs from 'node:fs/promises';
import path from 'node:path';
import type { Action } from '@homelab/contracts';
import { nodeFsOps, type FsOps } from './durable';

/** A pending action as the supervisor would write it (test fixture). */
export function pendingAction(id: string, over: Partial<Action> = {}): Action {
  const at = '2026-11-26T14:02:00.000Z';
  return {
    id,
    type: 'container_restart',
    risk: 'low',
    node: 'piha',
    service: 'zigbee2mqtt',
    state: 'pending',
    drift: { type: 'unhealthy_service', reason: 'containers_not_running', eventIds: ['piha-1'], firstSeen: at },
    summary: 'piha/zigbee2mqtt: containers not running since 2026-11-26 14:02 UTC (1 event)',
    createdAt: at,
    updatedAt: at,
    audit: [{ at, state: 'pending', by: 'supervisor', via: 'supervisor' }],
    ...over,
  };
}

/** Every file under `dir`, relative, with its size. */
export async function filesUnder(dir: string): Promise<{ rel: string; size: number }[]> {
  const out: { rel: string; size: number }[] = [];
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out.push({ rel: path.relative(dir, full), size: (await fs.stat(full)).size });
  }
  return out.sort((a, b) => a.rel.localeCompare(b.rel));
}

export class CrashedError extends Error {}

/**
 * Real filesystem calls until call number `crashAt`; that call and every later
 * one fail as if the process died there. A write that "crashes" leaves half
 * its bytes behind, like a torn write before fsync.
 */
export function crashingOps(crashAt: number): FsOps & { calls: number } {
  const state = { calls: 0 };
  const step = () => {
    state.calls += 1;
    if (state.calls > crashAt) throw new CrashedError(`crashed at step ${crashAt}`);
  };
  const wrap =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      step();
      return fn(...a);
    };
  return {
    get calls() {
      return state.calls;
    },
    mkdirp: wrap(nodeFsOps.mkdirp),
    readdir: wrap(nodeFsOps.readdir),
    readFile: wrap(nodeFsOps.readFile),
    exists: wrap(nodeFsOps.exists),
    async writeSynced(file, data, mode) {
      if (state.calls + 1 > crashAt) await fs.writeFile(file, data.slice(0, Math.floor(data.length / 2)));
      step();
      return nodeFsOps.writeSynced(file, data, mode);
    },
    rename: wrap(nodeFsOps.rename),
    link: wrap(nodeFsOps.link),
    unlink: wrap(nodeFsOps.unlink),
    fsyncDir: wrap(nodeFsOps.fsyncDir),
  };
}
