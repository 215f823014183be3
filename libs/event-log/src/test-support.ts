import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { HomelabEvent } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';

/** Test helpers shared by this package's tests (not exported from the package). */

export async function tempRoot(): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'event-log-'));
  return { root, cleanup: () => fs.rm(root, { recursive: true, force: true }) };
}

export function heartbeat(node: string, seq: number, ts = '2026-01-01T00:00:00.000Z'): HomelabEvent {
  return { id: `${node}-${seq}`, node, seq, ts, type: 'node_heartbeat', data: { uptimeSec: seq } };
}

export interface CapturedLog {
  logger: Logger;
  entries: { level: string; obj: Record<string, unknown>; msg: string }[];
}

/** A Logger that records calls instead of printing them. */
export function captureLog(): CapturedLog {
  const entries: CapturedLog['entries'] = [];
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      entries.push({ level, obj: typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>) : { value: obj }, msg: msg ?? String(obj) });
    };
  const logger = {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    child: () => logger,
  } as unknown as Logger;
  return { logger, entries };
}
