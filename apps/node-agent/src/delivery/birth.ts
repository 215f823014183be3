import { NodeStatus, type Clock, type ServiceSnapshot } from '@homelab/contracts';

export interface StatusBase {
  node: string;
  session: number;
  /** The connection of the session the status is for (NodeStatus.connection); absent before the first. */
  connection?: number;
  version: string;
  now: Date;
}

export interface BirthExtras {
  /** Unacknowledged events waiting in the outbox (they follow the birth in seq order), or null. */
  backlog: { events: number; untilSeq: number } | null;
  /** The watcher's current verdict per monitored service. */
  services: ReadonlyMap<string, { status: ServiceSnapshot['status']; reason?: string | undefined }>;
}

/**
 * The retained `nodes/<node>/status` payload. The birth carries the fresh
 * snapshot (services) and announces the backlog, so the hub knows, before the
 * first old event arrives, that the node is catching up and what is true now.
 */
export function statusPayload(state: 'online' | 'offline', base: StatusBase, extras?: BirthExtras): string {
  const services = extras
    ? Object.fromEntries([...extras.services].map(([name, s]) => [name, s.reason ? { status: s.status, reason: s.reason } : { status: s.status }]))
    : undefined;
  return JSON.stringify(
    NodeStatus.parse({
      node: base.node,
      state,
      session: base.session,
      ...(base.connection !== undefined ? { connection: base.connection } : {}),
      ts: base.now.toISOString(),
      version: base.version,
      ...(extras?.backlog ? { backlog: extras.backlog } : {}),
      ...(services ? { services } : {}),
    }),
  );
}

/** Resolves when `p` settles or after `ms` on the injected clock, whichever comes first; never rejects. */
export function settledWithin(p: Promise<unknown>, ms: number, clock: Clock): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = clock.setTimeout(resolve, ms);
    const done = () => {
      clock.clearTimeout(timer);
      resolve();
    };
    p.then(done, done);
  });
}
