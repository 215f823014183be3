import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '@homelab/logging';
import { ensureDir, readJsonFile, writeJsonAtomic } from '../state/fs-atomic';

export const SessionFile = z.object({ session: z.number().int().nonnegative() });

/**
 * Bumps and persists the agent's session counter (one per process start). Birth
 * and last will carry it, so a stale will of an earlier session can never mark
 * the node offline. A corrupt file falls back to the Unix time in seconds, which
 * is above any counter a node reaches by restarts.
 */
export async function nextSession(stateDir: string, now: Date, log: Logger): Promise<number> {
  await ensureDir(stateDir);
  const file = path.join(stateDir, 'session.json');
  const res = await readJsonFile(file, SessionFile);
  let session: number;
  if (res.kind === 'ok') session = res.value.session + 1;
  else if (res.kind === 'missing') session = 1;
  else {
    session = Math.floor(now.getTime() / 1000);
    log.warn({ file, problem: res.problem, session }, 'session file unreadable; continuing from the clock');
  }
  await writeJsonAtomic(file, { session });
  return session;
}
