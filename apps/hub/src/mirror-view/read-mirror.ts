import fs from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { MirrorStatus, Summary } from '@homelab/contracts';

/** What `homelab mirror` left in its folder (docs/ui-api.md, "Mirror"), or why there is nothing to show. */
export type MirrorCopy = { ok: true; summary: Summary; status: MirrorStatus } | { ok: false; problem: string };

const firstIssue = (e: z.ZodError) => {
  const i = e.issues[0];
  return i ? `${i.path.join('.') || '(top)'}: ${i.message}` : 'invalid';
};

async function readJson(file: string): Promise<unknown> {
  return JSON.parse(await fs.readFile(file, 'utf8'));
}

/**
 * Reads `<dir>/summary.json` and `<dir>/mirror-status.json`, each through its
 * zod schema. Read on every request: the files are replaced atomically by the
 * copying loop (apps/cli/src/mirror.ts), so a read sees one whole pass.
 */
export async function readMirror(dir: string): Promise<MirrorCopy> {
  let raw: [unknown, unknown];
  try {
    raw = await Promise.all([readJson(path.join(dir, 'summary.json')), readJson(path.join(dir, 'mirror-status.json'))]);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { ok: false, problem: e.code === 'ENOENT' ? `no copy in ${dir} yet (${path.basename(e.path ?? '')} missing)` : `${dir}: ${e.message}` };
  }
  const summary = Summary.safeParse(raw[0]);
  const status = MirrorStatus.safeParse(raw[1]);
  if (!summary.success) return { ok: false, problem: `${path.join(dir, 'summary.json')} does not parse: ${firstIssue(summary.error)}` };
  if (!status.success) return { ok: false, problem: `${path.join(dir, 'mirror-status.json')} does not parse: ${firstIssue(status.error)}` };
  return { ok: true, summary: summary.data, status: status.data };
}

/** Seconds since the copy was made; null before the first good pass. */
export function copyAgeSeconds(status: MirrorStatus, now: Date): number | null {
  return status.lastSuccess ? Math.max(0, Math.round((now.getTime() - Date.parse(status.lastSuccess)) / 1000)) : null;
}
