import type { StoredEvent } from '@homelab/contracts';

export type ChangeKind = 'world' | 'actions';

export interface LiveSubscriber {
  onEvent?: (record: StoredEvent) => void;
  onChange?: (kind: ChangeKind) => void;
}

/**
 * In-process fan-out for the UI's server-sent events: events as the ingest
 * writes them, and "something changed" when the world or an action changes.
 * A subscriber that throws is dropped (its connection is gone).
 */
export class LiveBus {
  private readonly subs = new Set<LiveSubscriber>();

  subscribe(sub: LiveSubscriber): () => void {
    this.subs.add(sub);
    return () => this.subs.delete(sub);
  }

  get size(): number {
    return this.subs.size;
  }

  events(records: readonly StoredEvent[]): void {
    for (const sub of this.subs) {
      try {
        for (const r of records) sub.onEvent?.(r);
      } catch {
        this.subs.delete(sub);
      }
    }
  }

  changed(kind: ChangeKind): void {
    for (const sub of this.subs) {
      try {
        sub.onChange?.(kind);
      } catch {
        this.subs.delete(sub);
      }
    }
  }
}
