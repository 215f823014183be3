import path from 'node:path';
import { z } from 'zod';
import { HOMELAB_VERSION } from '@homelab/contracts';
import { AgentError } from '../errors';
import { ensureDir, readJsonFile, writeFileAtomic } from './fs-atomic';

/**
 * `<stateDir>/layout.json`: the version of the agent's state folder as a whole
 * (docs/upgrade.md, "What is versioned"): seq.json, session.json, outbox/,
 * journal/, desired.json carry none of their own. A folder without the file
 * was written before it existed and is layout 1, the current one.
 */
export const STATE_LAYOUT_FILE = 'layout.json';
export const STATE_LAYOUT_VERSION = 1;

export const StateLayoutFile = z.object({ version: z.number().int().positive(), writtenBy: z.string().max(64) });

/**
 * Refuses a state folder written by a newer agent before anything in it is
 * touched (AgentError data_root_newer, naming the file and its version); an
 * unreadable marker is refused too, never replaced. Otherwise marks the folder
 * with the current layout and this program's version.
 */
export async function checkStateLayout(stateDir: string): Promise<void> {
  const file = path.join(stateDir, STATE_LAYOUT_FILE);
  const read = await readJsonFile(file, StateLayoutFile);
  if (read.kind === 'corrupt')
    throw new AgentError('state_corrupt', `${file} cannot be read (${read.problem}); the agent leaves it as it is and does not start`);
  if (read.kind === 'ok' && read.value.version > STATE_LAYOUT_VERSION)
    throw new AgentError(
      'data_root_newer',
      `${file}: agent state layout version ${read.value.version}, written by homelab ${read.value.writtenBy}; homelab ${HOMELAB_VERSION} reads up to ${STATE_LAYOUT_VERSION}. ` +
        'The agent does not start and changed nothing: run the version that wrote it, or restore the backup taken before the upgrade (docs/upgrade.md, "Rollback")',
    );
  if (read.kind === 'ok' && read.value.version === STATE_LAYOUT_VERSION && read.value.writtenBy === HOMELAB_VERSION) return;
  await ensureDir(stateDir);
  await writeFileAtomic(file, `${JSON.stringify({ version: STATE_LAYOUT_VERSION, writtenBy: HOMELAB_VERSION })}\n`);
}
