import fs from 'node:fs/promises';
import path from 'node:path';
import { ACTION_ID_PATTERN, ACTION_STATES, type ActionState } from '@homelab/contracts';
import { ActionStoreError } from './port';

/**
 * Where actions live: `<root>/actions/<state>/<id>.json` (docs/actions.md,
 * "States"). Temp files start with a dot and archives carry an upper-case
 * timestamp (`<id>--20261126T140200123Z.json`), so neither ever matches the
 * action-id pattern and listing can tell them apart from live actions.
 */
export class ActionLayout {
  readonly dir: string;

  constructor(root: string) {
    this.dir = path.join(root, 'actions');
  }

  stateDir(state: ActionState): string {
    return path.join(this.dir, state);
  }

  file(state: ActionState, id: string): string {
    return path.join(this.stateDir(state), `${id}.json`);
  }

  archiveFile(state: ActionState, id: string, stamp: string, n = 0): string {
    return path.join(this.stateDir(state), `${id}--${stamp}${n ? `-${n}` : ''}.json`);
  }

  /**
   * Hard link to `<from>/<id>.json` held while a transition moves it: only one
   * transition (of any process) can create it. Named like a temp file, so a
   * crash leaves nothing that `init()` does not sweep.
   */
  claimFile(from: ActionState, id: string): string {
    return path.join(this.stateDir(from), `.${id}.claim.tmp`);
  }

  /** Where unreadable entries of the state folders are moved aside (never a state folder itself). */
  get quarantineDir(): string {
    return path.join(this.dir, QUARANTINE_DIR);
  }

  quarantineFile(state: ActionState, name: string, stamp: string, n = 0): string {
    return path.join(this.quarantineDir, state, `${name}--${stamp}${n ? `-${n}` : ''}`);
  }
}

export const QUARANTINE_DIR = 'quarantine';

/** Refuses anything but a valid id before any path is built (`../x`, `%2e%2e`, `-f`, 300 chars: docs/reliability.md, "Injection"). */
export function assertActionId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !ACTION_ID_PATTERN.test(id)) {
    const shown = typeof id === 'string' ? JSON.stringify(id.length > 80 ? `${id.slice(0, 80)}…` : id) : typeof id;
    throw new ActionStoreError('invalid_id', `invalid action id ${shown}: must match ${ACTION_ID_PATTERN}`);
  }
}

/** The id of a live action file name (`<id>.json`), or null for temp files, archives and strays. */
export function idOfFileName(name: string): string | null {
  if (!name.endsWith('.json')) return null;
  const id = name.slice(0, -'.json'.length);
  return ACTION_ID_PATTERN.test(id) ? id : null;
}

const ARCHIVE_NAME = /^(.+)--(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z(?:-\d+)?\.json$/;

/**
 * Id and end time of an archive file name (`<id>--20261126T140200123Z.json`,
 * optionally `-<n>` before `.json`), or null for anything else.
 */
export function archiveOfFileName(name: string): { id: string; endedAt: number } | null {
  const m = ARCHIVE_NAME.exec(name);
  if (!m || !ACTION_ID_PATTERN.test(m[1]!)) return null;
  const [, id, y, mo, d, h, mi, s, ms] = m;
  const endedAt = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(ms));
  return Number.isNaN(endedAt) ? null : { id: id!, endedAt };
}

export function isTempFileName(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.tmp');
}

/** `2026-11-26T14:02:00.123Z` → `20261126T140200123Z`. */
export function compactStamp(iso: string): string {
  const d = new Date(iso);
  const safe = Number.isNaN(d.getTime()) ? new Date() : d;
  return safe.toISOString().replace(/[-:.]/g, '');
}

/** Position in ACTION_STATES: a later state wins when an id shows up twice. */
export function stateRank(state: ActionState): number {
  return ACTION_STATES.indexOf(state);
}

/**
 * Every action file of the state folders under `root`, live and archived
 * (temp files and the quarantine excluded): what an upgrade of the data
 * root reads and stamps (docs/upgrade.md).
 */
export async function actionFilesOf(root: string): Promise<string[]> {
  const layout = new ActionLayout(root);
  const files: string[] = [];
  for (const state of ACTION_STATES) {
    const dir = layout.stateDir(state);
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    });
    for (const e of entries) if (e.isFile() && e.name.endsWith('.json') && !e.name.startsWith('.')) files.push(path.join(dir, e.name));
  }
  return files.sort();
}
