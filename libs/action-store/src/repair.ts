import path from 'node:path';
import { ACTION_STATES, type Action, type ActionState } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { archiveActionFile, encodeAction, readActionFile } from './codec';
import { isNotFound, writeAtomic, type FsOps } from './durable';
import { idOfFileName, isTempFileName, stateRank, type ActionLayout } from './layout';
import { quarantineEntry } from './quarantine';

export interface RepairReport {
  tempFilesRemoved: number;
  /** Transitions a crash interrupted after the new file was in place: the old copy was removed. */
  transitionsFinished: number;
  contentFixed: number;
  duplicatesResolved: number;
  /** Unreadable entries moved to `actions/quarantine/`. */
  quarantined: number;
}

export interface RepairContext {
  ops: FsOps;
  layout: ActionLayout;
  log: Logger;
  now: Date;
}

/** The audit note of a file whose content a crash left behind its folder (written by earlier versions). */
export const RECOVERED_NOTE = 'recovered after crash';

/**
 * Finishes what a crash left half-done: a crash never leaves an action in two
 * states or none (docs/actions.md, "States"). The result depends on the files only, so a
 * crash during repair is repaired the same way at the next start:
 * - leftover temp files and transition claims are removed (their rename never
 *   happened, so the real file still holds the previous complete content);
 * - an entry that cannot be read as its action is moved to the quarantine;
 * - an id in two folders after a transition that placed the new file but did
 *   not yet remove the old one: the old copy (its content in its own folder's
 *   state, same occurrence, its audit a prefix of the new one's) is removed. Any other id in two folders can only
 *   come from manual copying: the later state in ACTION_STATES order stays and
 *   the other copy is set aside as an archive;
 * - a file whose content `state` differs from its folder (left by versions that
 *   renamed first and rewrote next): the folder wins and the content is fixed.
 */
export async function repairActions(ctx: RepairContext): Promise<RepairReport> {
  const { ops, layout, log } = ctx;
  const report: RepairReport = { tempFilesRemoved: 0, transitionsFinished: 0, contentFixed: 0, duplicatesResolved: 0, quarantined: 0 };
  const where = new Map<string, ActionState[]>();

  for (const state of ACTION_STATES) {
    const dir = layout.stateDir(state);
    let removed = 0;
    for (const name of await ops.readdir(dir)) {
      if (isTempFileName(name)) {
        try {
          await ops.unlink(path.join(dir, name));
          removed += 1;
        } catch (err) {
          if (isNotFound(err)) continue;
          if (await quarantineEntry(ctx, state, name, `a temp name that cannot be removed: ${(err as Error).message}`)) report.quarantined += 1;
        }
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
    const copies: { state: ActionState; action: Action }[] = [];
    for (const state of [...states].sort((a, b) => stateRank(a) - stateRank(b))) {
      const read = await readActionFile(ops, layout.file(state, id), id);
      if (read.kind === 'ok') copies.push({ state, action: read.action });
      else if (read.kind === 'corrupt' && (await quarantineEntry(ctx, state, `${id}.json`, read.problem))) report.quarantined += 1;
    }
    const keep = copies.at(-1);
    if (!keep) continue;
    for (const extra of copies.slice(0, -1)) {
      if (isEarlierStepOf(extra.action, extra.state, keep.action)) {
        await ops.unlink(layout.file(extra.state, id));
        await ops.fsyncDir(layout.stateDir(extra.state));
        report.transitionsFinished += 1;
        log.warn({ id, from: extra.state, to: keep.state }, 'finished a transition a crash interrupted: removed the old copy');
        continue;
      }
      const aside = await archiveActionFile(ops, layout, extra.state, id, ctx.now);
      report.duplicatesResolved += 1;
      log.warn({ id, kept: keep.state, setAside: aside }, 'action found in two state folders; kept the later state');
    }
    await fixContent(ctx, keep.state, keep.action, report);
  }
  return report;
}

/**
 * `older` (found in `folder`) is what `newer` was before a transition: its content says its own
 * folder (a manual copy of the newer file would not), same occurrence, and its audit is one the
 * newer one continues.
 */
function isEarlierStepOf(older: Action, folder: ActionState, newer: Action): boolean {
  if (older.state !== folder || older.createdAt !== newer.createdAt || older.audit.length > newer.audit.length) return false;
  return older.audit.every((e, i) => JSON.stringify(e) === JSON.stringify(newer.audit[i]));
}

async function fixContent(ctx: RepairContext, state: ActionState, action: Action, report: RepairReport): Promise<void> {
  const { ops, layout, log, now } = ctx;
  if (action.state === state) return;
  const at = now.toISOString();
  // A result recorded nowhere (the old rename-then-rewrite lost it): the executor asks the agent's journal for it.
  const lost = (state === 'completed' || state === 'failed') && !action.result && action.command !== undefined;
  const note = lost ? `${RECOVERED_NOTE}; the result was lost, the agent's journal is asked for it` : RECOVERED_NOTE;
  const fixed: Action = { ...action, state, updatedAt: at, audit: [...action.audit, { at, state, by: 'action-store', via: 'store', note }] };
  await writeAtomic(ops, layout.file(state, action.id), encodeAction(fixed));
  report.contentFixed += 1;
  log.warn({ id: action.id, from: action.state, to: state, resultLost: lost }, 'action content fixed to match its folder after a crash');
}
