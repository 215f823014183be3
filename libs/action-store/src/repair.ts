import path from 'node:path';
import { ACTION_STATES, type Action, type ActionState } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { archiveActionFile, encodeAction, readActionFile } from './codec';
import { writeAtomic, type FsOps } from './durable';
import { idOfFileName, isTempFileName, stateRank, type ActionLayout } from './layout';

export interface RepairReport {
  tempFilesRemoved: number;
  contentFixed: number;
  duplicatesResolved: number;
  corrupt: number;
}

export interface RepairContext {
  ops: FsOps;
  layout: ActionLayout;
  log: Logger;
  now: Date;
}

/**
 * Finishes what a crash left half-done (BRIEF.md: "a crash never leaves an
 * action in two states or none"):
 * - leftover `.<id>.<rand>.tmp` files are removed (their rename never happened,
 *   so the real file still holds the previous complete content);
 * - a file whose content `state` differs from its folder was claimed by rename
 *   but not yet rewritten: the folder wins and the content is fixed;
 * - an id in two folders can only come from manual copying: the later state in
 *   ACTION_STATES order stays, the other copy is set aside as an archive.
 */
export async function repairActions(ctx: RepairContext): Promise<RepairReport> {
  const { ops, layout, log } = ctx;
  const report: RepairReport = { tempFilesRemoved: 0, contentFixed: 0, duplicatesResolved: 0, corrupt: 0 };
  const where = new Map<string, ActionState[]>();

  for (const state of ACTION_STATES) {
    const dir = layout.stateDir(state);
    let removed = 0;
    for (const name of await ops.readdir(dir)) {
      if (isTempFileName(name)) {
        await ops.unlink(path.join(dir, name));
        removed += 1;
        continue;
      }
      const id = idOfFileName(name);
      if (id) where.set(id, [...(where.get(id) ?? []), state]);
    }
    if (removed) {
      await ops.fsyncDir(dir);
      report.tempFilesRemoved += removed;
      log.warn({ dir, removed }, 'removed temp files left by an interrupted write');
    }
  }

  for (const [id, states] of where) {
    const ordered = [...states].sort((a, b) => stateRank(a) - stateRank(b));
    const keep = ordered[ordered.length - 1]!;
    for (const extra of ordered.slice(0, -1)) {
      const aside = await archiveActionFile(ops, layout, extra, id, ctx.now);
      report.duplicatesResolved += 1;
      log.warn({ id, kept: keep, setAside: aside }, 'action found in two state folders; kept the later state');
    }
    await fixContent(ctx, keep, id, report);
  }
  return report;
}

async function fixContent(ctx: RepairContext, state: ActionState, id: string, report: RepairReport): Promise<void> {
  const { ops, layout, log, now } = ctx;
  const file = layout.file(state, id);
  const read = await readActionFile(ops, file, id);
  if (read.kind === 'corrupt') {
    report.corrupt += 1;
    log.error({ file, problem: read.problem }, 'corrupt action file left in place; it is skipped until fixed by hand');
    return;
  }
  if (read.kind === 'missing' || read.action.state === state) return;
  const at = now.toISOString();
  const fixed: Action = {
    ...read.action,
    state,
    updatedAt: at,
    audit: [...read.action.audit, { at, state, by: 'action-store', via: 'store', note: 'recovered after crash' }],
  };
  await writeAtomic(ops, file, encodeAction(fixed));
  report.contentFixed += 1;
  log.warn({ id, from: read.action.state, to: state }, 'action content fixed to match its folder after a crash');
}
