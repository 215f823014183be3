import fs from 'node:fs/promises';
import type { Clock } from '@homelab/contracts';
import type { EventLogReader } from '@homelab/event-log';
import type { Logger } from '@homelab/logging';
import { PeriodicLoop } from '@homelab/runtime';
import { aliasesHash } from '../observer/checkpoint';
import { listSnapshots, readSnapshot, writeSnapshot, HISTORY_FILE_VERSION } from './snapshot-file';
import { foldUntil } from './world-at';

export interface HistoryLoopDeps {
  root: string;
  reader: EventLogReader;
  clock: Clock;
  log: Logger;
  aliases: Record<string, string>;
  /** A new snapshot once the newest is this old (HOMELAB_HISTORY_INTERVAL_MS). */
  intervalMs: number;
  /** Snapshots older than this are deleted, the newest always kept (HOMELAB_HISTORY_RETENTION_DAYS). */
  retentionMs: number;
}

export interface HistoryRun {
  /** The file written, or null when the newest snapshot is recent enough or nothing was appended since. */
  written: string | null;
  applied: number;
  deleted: number;
}

/**
 * Periodic snapshots of the fold for time travel (docs/observer-runtime.md,
 * "World at a past instant"). Each one is the previous snapshot plus what the
 * log gained since — one pass over an interval's events — so a world at any
 * instant reads at most an interval of the log. Apart from the observer: it
 * reads the log on its own and never touches the observer's state files.
 */
export class HistoryLoop {
  private readonly loop: PeriodicLoop<HistoryRun>;

  constructor(private readonly deps: HistoryLoopDeps) {
    this.loop = new PeriodicLoop({
      name: 'history snapshots',
      clock: deps.clock,
      log: deps.log,
      run: () => this.run(),
      onFailure: (err) => deps.log.error({ err }, 'history snapshot failed; retrying on the next run'),
    });
  }

  runOnce(): Promise<HistoryRun> {
    return this.loop.runOnce();
  }

  start(checkEveryMs: number): void {
    this.loop.start(checkEveryMs, Math.min(checkEveryMs, 60_000));
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async run(): Promise<HistoryRun> {
    const { root, reader, clock, aliases, intervalMs, retentionMs, log } = this.deps;
    const now = clock.now();
    const hash = aliasesHash(aliases);
    const list = await listSnapshots(root);
    let base = null;
    for (const s of [...list].reverse()) {
      base = await readSnapshot(s.file);
      if (base && base.aliases === hash) break;
      base = null;
    }
    let written: string | null = null;
    let applied = 0;
    if (!base || now.getTime() - Date.parse(base.cut) >= intervalMs) {
      const res = await foldUntil(reader, now, aliases, base);
      applied = res.applied;
      const cuts = Object.values(res.cuts);
      if (res.applied > 0 && cuts.length > 0) {
        const cut = cuts.map((c) => c.maxRx).reduce((a, b) => (Date.parse(a) >= Date.parse(b) ? a : b));
        const fold = { services: res.fold.services, nodes: res.fold.nodes, folded: res.fold.folded ?? {} };
        written = await writeSnapshot(root, { version: HISTORY_FILE_VERSION, cut, aliases: hash, streams: res.cuts, fold });
        log.info({ file: written, applied }, 'history snapshot written');
      }
    }
    const all = await listSnapshots(root);
    let deleted = 0;
    for (const s of all.slice(0, -1)) {
      if (now.getTime() - Date.parse(s.cut) <= retentionMs) continue;
      await fs.rm(s.file, { force: true });
      deleted++;
    }
    return { written, applied, deleted };
  }
}
