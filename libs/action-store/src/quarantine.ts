import path from 'node:path';
import { ACTION_STATES, type ActionState } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { isNotFound, type FsOps } from './durable';
import { compactStamp, type ActionLayout } from './layout';

/**
 * An entry of a state folder that could not be read as an action (not JSON,
 * not an Action, another id inside, a directory or symlink named `<id>.json`),
 * moved aside with its bytes so that it neither blocks the id nor breaks a
 * listing (docs/actions.md, "Unreadable action files").
 */
export interface QuarantinedActionFile {
  /** Where it is now, relative to the data root: `actions/quarantine/<state>/<name>--<stamp>`. */
  file: string;
  /** Where it was, relative to the data root: `actions/<state>/<name>`. */
  from: string;
  /** When it was moved aside. */
  at: string;
  /** Why it could not be read; null when an earlier process moved it (the reason is in that process's log). */
  problem: string | null;
}

export interface QuarantineContext {
  ops: FsOps;
  layout: ActionLayout;
  log: Logger;
  now: Date;
}

const QUARANTINED_NAME = /^(.+)--(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z(?:-\d+)?$/;

/** Path relative to the data root (the folder holding `actions/`). */
const fromRoot = (layout: ActionLayout, abs: string) => path.relative(path.dirname(layout.dir), abs);

/**
 * Moves `actions/<state>/<name>` to `actions/quarantine/<state>/<name>--<stamp>`
 * and makes both directory entries durable. Null when it is already gone
 * (another caller moved it first).
 */
export async function quarantineEntry(ctx: QuarantineContext, state: ActionState, name: string, problem: string): Promise<QuarantinedActionFile | null> {
  const { ops, layout, log, now } = ctx;
  const source = path.join(layout.stateDir(state), name);
  const dir = path.join(layout.quarantineDir, state);
  if (await ops.mkdirp(dir)) {
    await ops.fsyncDir(layout.quarantineDir);
    await ops.fsyncDir(layout.dir);
  }
  const stamp = compactStamp(now.toISOString());
  let target = layout.quarantineFile(state, name, stamp);
  for (let n = 1; await ops.exists(target); n += 1) target = layout.quarantineFile(state, name, stamp, n);
  try {
    await ops.rename(source, target);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
  await ops.fsyncDir(dir);
  await ops.fsyncDir(layout.stateDir(state));
  const entry: QuarantinedActionFile = { file: fromRoot(layout, target), from: fromRoot(layout, source), at: now.toISOString(), problem };
  log.error({ file: entry.from, problem, quarantine: entry.file }, 'unreadable action file moved to quarantine; its id is free again');
  return entry;
}

/** What the quarantine folder holds, oldest first. */
export async function listQuarantine(ops: FsOps, layout: ActionLayout): Promise<QuarantinedActionFile[]> {
  const out: QuarantinedActionFile[] = [];
  for (const state of ACTION_STATES) {
    const dir = path.join(layout.quarantineDir, state);
    let names: string[];
    try {
      names = await ops.readdir(dir);
    } catch (err) {
      if (isNotFound(err)) continue;
      throw err;
    }
    for (const name of names) {
      const m = QUARANTINED_NAME.exec(name);
      if (!m) continue;
      const [, original, y, mo, d, h, mi, s, ms] = m;
      const at = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(ms)));
      if (Number.isNaN(at.getTime())) continue;
      out.push({
        file: fromRoot(layout, path.join(dir, name)),
        from: fromRoot(layout, path.join(layout.stateDir(state), original!)),
        at: at.toISOString(),
        problem: null,
      });
    }
  }
  return out.sort((a, b) => a.at.localeCompare(b.at) || a.file.localeCompare(b.file));
}
