import { z } from 'zod';
import { Action, type ActionState } from '@homelab/contracts';
import { parseJsonText } from '@homelab/durable-fs';
import { isNotFound, isNotRegular, type FsOps } from './durable';
import { compactStamp, type ActionLayout } from './layout';
import { InvalidActionError } from './port';

export type ReadOutcome = { kind: 'ok'; action: Action } | { kind: 'missing' } | { kind: 'corrupt'; problem: string };

/**
 * The format of an action file, written as its `version` field. Files without
 * one come from data roots of layout 1 and are stamped when the hub upgrades
 * the root (docs/upgrade.md); a higher number was written by a newer hub.
 */
export const ACTION_FILE_VERSION = 1;

/** Pretty, human-inspectable JSON: operators read these files directly (docs/architecture.md, "Data root"). */
export function encodeAction(action: Action): string {
  return `${JSON.stringify({ version: ACTION_FILE_VERSION, ...action }, null, 2)}\n`;
}

/** Why a parsed action file cannot be read by this code: a `version` other than ACTION_FILE_VERSION (absent is layout 1, readable). */
export function versionProblem(json: unknown): string | null {
  if (json === null || typeof json !== 'object' || !('version' in json)) return null;
  const version = (json as { version: unknown }).version;
  return version === ACTION_FILE_VERSION ? null : `format version ${JSON.stringify(version)}; this version reads ${ACTION_FILE_VERSION}`;
}

/** Validates content the store is about to write; a caller bug gets a clear error and nothing is written. */
export function validAction(candidate: unknown, what: string): Action {
  const parsed = Action.safeParse(candidate);
  if (!parsed.success) throw new InvalidActionError(`${what}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/**
 * Reads and zod-validates one action file. A file whose content names another
 * id is corrupt (it would shadow the real one). The content's `state` is not
 * checked here: the directory is the truth and callers decide.
 */
export async function readActionFile(ops: FsOps, file: string, id: string): Promise<ReadOutcome> {
  let text: string;
  try {
    text = await ops.readFile(file);
  } catch (err) {
    if (isNotFound(err)) return { kind: 'missing' };
    if (isNotRegular(err)) return { kind: 'corrupt', problem: 'not a regular file' };
    throw err;
  }
  const json = parseJsonText(text, z.unknown());
  if (json.kind === 'corrupt') return json;
  const newer = versionProblem(json.value);
  if (newer) return { kind: 'corrupt', problem: newer };
  const parsed = Action.safeParse(json.value);
  if (!parsed.success) return { kind: 'corrupt', problem: z.prettifyError(parsed.error) };
  if (parsed.data.id !== id) return { kind: 'corrupt', problem: `content id ${JSON.stringify(parsed.data.id)} differs from the file name` };
  return { kind: 'ok', action: parsed.data };
}

/**
 * Renames `<state>/<id>.json` to `<state>/<id>--<stamp>.json` so the id is free
 * again while the history stays on disk. The stamp is the action's
 * `updatedAt` (when it ended); a numeric suffix avoids overwriting an archive.
 */
export async function archiveActionFile(ops: FsOps, layout: ActionLayout, state: ActionState, id: string, now: Date): Promise<string> {
  const current = await readActionFile(ops, layout.file(state, id), id);
  const stamp = compactStamp(current.kind === 'ok' ? current.action.updatedAt : now.toISOString());
  let target = layout.archiveFile(state, id, stamp);
  for (let n = 1; await ops.exists(target); n += 1) target = layout.archiveFile(state, id, stamp, n);
  await ops.rename(layout.file(state, id), target);
  await ops.fsyncDir(layout.stateDir(state));
  return target;
}
