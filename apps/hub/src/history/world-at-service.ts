import type { z } from 'zod';
import type { EventLogReader } from '@homelab/event-log';
import { aliasesHash } from '../observer/checkpoint';
import type { DesiredView } from '../observer/prune';
import { snapshotFor } from './snapshot-file';
import type { WorldAtView, WorldDiff } from './world-at-api';
import { worldAt } from './world-at';
import { diffWorlds } from './world-diff';

export interface WorldHistoryDeps {
  root: string;
  reader: EventLogReader;
  aliases: Record<string, string>;
  ttl: { serviceTtlMs: number; nodeTtlMs: number };
  /** Desired state in force now: pruning of a past view keeps what is desired today (docs/observer-runtime.md). */
  desired: () => DesiredView | undefined;
}

/** `GET /api/world?at=` and `?at=&diff=` over the log and the history snapshots. */
export class WorldHistory {
  private readonly aliasesHash: string;

  constructor(private readonly deps: WorldHistoryDeps) {
    this.aliasesHash = aliasesHash(deps.aliases);
  }

  async at(at: Date): Promise<z.infer<typeof WorldAtView>> {
    const { root, reader, aliases, ttl } = this.deps;
    const snapshot = await snapshotFor(root, at, this.aliasesHash);
    const res = await worldAt(reader, at, { aliases, snapshot, ...ttl, desired: this.deps.desired() });
    return { at: at.toISOString(), basedOn: res.basedOn, applied: res.applied, ...res.world };
  }

  async diff(from: Date, to: Date): Promise<z.infer<typeof WorldDiff>> {
    const [a, b] = await Promise.all([this.at(from), this.at(to)]);
    return { from: a.at, to: b.at, ...diffWorlds(a, b) };
  }
}
