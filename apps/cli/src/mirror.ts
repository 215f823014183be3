import type { MirrorStatus } from '@homelab/contracts';
import { writeFileAtomic } from '@homelab/durable-fs';
import path from 'node:path';

export interface MirrorOptions {
  from: string;
  to: string;
  token?: string;
  timeoutMs?: number;
  now?: () => Date;
}

/** temp file → fsync → rename → fsync the folder: a reader sees the old file or the new one, never half. */
export async function writeAtomic(file: string, data: string): Promise<void> {
  await writeFileAtomic(file, data, { mkdirMode: 0o755 });
}

async function get(url: URL, token: string | undefined, timeoutMs: number): Promise<unknown> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${url.pathname}: HTTP ${res.status}${res.status === 401 ? ' (give a viewer token: --token or HOMELAB_TOKEN)' : ''}`);
  return res.json();
}

/**
 * One mirror pass (docs/ui-api.md, "Mirror"): the hub's world state
 * into `<to>/world/services.json` and `nodes.json` (the same shape as the
 * hub's own files), the JSON summary into `<to>/summary.json`, and
 * `<to>/mirror-status.json`. All or nothing: when any fetch fails, the files
 * of the last good pass stay and only the status records the error.
 */
export async function mirrorOnce(opts: MirrorOptions, lastSuccess: string | null): Promise<MirrorStatus> {
  const now = (opts.now ?? (() => new Date()))().toISOString();
  const timeoutMs = opts.timeoutMs ?? 10_000;
  let status: MirrorStatus;
  try {
    const [world, summary] = (await Promise.all([
      get(new URL('/api/world', opts.from), opts.token, timeoutMs),
      get(new URL('/summary', opts.from), opts.token, timeoutMs),
    ])) as [{ services: unknown; nodes: unknown }, unknown];
    if (!world || typeof world !== 'object' || !world.services || !world.nodes) throw new Error('/api/world: unexpected answer');
    await writeAtomic(path.join(opts.to, 'world', 'services.json'), `${JSON.stringify({ version: 1, services: world.services }, null, 2)}\n`);
    await writeAtomic(path.join(opts.to, 'world', 'nodes.json'), `${JSON.stringify({ version: 1, nodes: world.nodes }, null, 2)}\n`);
    await writeAtomic(path.join(opts.to, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    status = { hub: opts.from, ok: true, lastAttempt: now, lastSuccess: now };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    status = { hub: opts.from, ok: false, lastAttempt: now, lastSuccess, error: e.cause?.code ? `${e.message} (${e.cause.code})` : e.message };
  }
  await writeAtomic(path.join(opts.to, 'mirror-status.json'), `${JSON.stringify(status, null, 2)}\n`);
  return status;
}

/** Parses `10s`, `500ms`, `2m`, or a plain number of seconds. */
export function parseInterval(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`not an interval: '${text}' (e.g. 10s, 500ms, 2m)`);
  const n = Number(m[1]);
  const ms = n * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const)[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  if (ms < 100) throw new Error(`interval ${text} is too short (at least 100ms)`);
  return ms;
}
