import { CONTAINER_NAME_PATTERN, type Clock, type InventoryScan, type ServiceSpec, type UnmanagedContainer } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { LoopStoppedError, PeriodicLoop } from '@homelab/runtime';
import { desiredOwner, KEEP_LABEL } from '../commands/disk-cleanup';
import { errorMessage } from '../errors';
import type { EventSink } from '../delivery/stamper';
import type { InventoryDockerPort, ListedContainer } from '../docker/docker-port';

export const INVENTORY_MAX = 256;

/**
 * Pure: the containers of no desired service (matched by name or compose
 * labels, like disk_cleanup; `monitor: false` services count as desired),
 * without those labelled `homelab.keep=true` — the same opt-out label as
 * disk_cleanup uses. Sorted by name, at most INVENTORY_MAX.
 */
export function unmanagedContainers(
  all: readonly ListedContainer[],
  desired: Record<string, ServiceSpec>,
): { unmanaged: UnmanagedContainer[]; truncated: boolean } {
  const out: UnmanagedContainer[] = [];
  for (const c of all) {
    if (c.labels[KEEP_LABEL]?.toLowerCase() === 'true' || !CONTAINER_NAME_PATTERN.test(c.name)) continue;
    if (desiredOwner(c, desired) !== null) continue;
    out.push({ name: c.name, state: c.state.slice(0, 32), ...(c.image ? { image: c.image.slice(0, 256) } : {}), ...adoptionFacts(c) });
  }
  out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { unmanaged: out.slice(0, INVENTORY_MAX), truncated: out.length > INVENTORY_MAX };
}

/** Opts a container out of `homelab adopt` (the agent's own service carries it: deploy/compose.agent.yml). */
export const ADOPT_LABEL = 'homelab.adopt';
const HEALTH_IN_STATUS = /\((?:healthy|unhealthy|health: starting)\)/;

/**
 * Pure: what `homelab adopt` drafts from (docs/services-yaml.md, "Adopting
 * what runs"): the compose labels, whether a healthcheck is defined (the
 * engine names a health state in the status text only then), the opt-out.
 * Too long a label is left out rather than cut: a cut path would be wrong.
 */
export function adoptionFacts(c: ListedContainer): Pick<UnmanagedContainer, 'compose' | 'healthcheck' | 'adopt'> {
  const label = (key: string, max: number) => {
    const v = c.labels[key];
    return v !== undefined && v.length > 0 && v.length <= max ? v : undefined;
  };
  const project = label('com.docker.compose.project', 128);
  const service = label('com.docker.compose.service', 128);
  const configFile = c.labels['com.docker.compose.project.config_files']?.split(',')[0]?.trim();
  const workingDir = label('com.docker.compose.project.working_dir', 512);
  const version = label('com.docker.compose.version', 32);
  return {
    ...(project && service
      ? {
          compose: {
            project,
            service,
            ...(configFile && configFile.length <= 512 ? { configFile } : {}),
            ...(workingDir ? { workingDir } : {}),
            ...(version ? { version } : {}),
          },
        }
      : {}),
    ...(c.status !== undefined && HEALTH_IN_STATUS.test(c.status) ? { healthcheck: true } : {}),
    ...(c.labels[ADOPT_LABEL]?.toLowerCase() === 'false' ? { adopt: false as const } : {}),
  };
}

export interface InventoryReporterDeps {
  docker: InventoryDockerPort;
  /** The node's desired services; undefined until a desired state is known (nothing is reported before). */
  desired: () => Record<string, ServiceSpec> | undefined;
  sink: EventSink;
  clock: Clock;
  log: Logger;
  intervalMs: number;
  /** Docker events of other containers are coalesced this long. Default 1 s. */
  debounceMs?: number;
  /** The agent's session, and the first seq of its events in this session (see InventoryScan). */
  session?: { session: number; fromSeq: number };
}

/**
 * Lists all containers (one Engine call) every intervalMs and soon after a
 * Docker event of a container of no watched service; emits `node_inventory`
 * when the unmanaged set changes, once after each start, and after the
 * watcher's first complete scan of each desired state (`afterScan`), carrying
 * that scan: the hub proposes nothing for the node until it has one of the
 * current session and desired state (docs/supervisor.md, "First contact").
 */
export class InventoryReporter {
  private last: string | null = null;
  /** Desired revision of the watcher's latest complete scan in this process. */
  private scanned: string | null = null;
  private readonly loop: PeriodicLoop<void>;

  constructor(private readonly deps: InventoryReporterDeps) {
    this.loop = new PeriodicLoop({
      name: 'inventory',
      clock: deps.clock,
      log: deps.log,
      run: () => this.report(),
      debounceMs: deps.debounceMs ?? 1000,
      kickBeforeStart: true,
    });
  }

  /** Reports now, then every intervalMs after the previous report ended. */
  start(): void {
    this.loop.start(this.deps.intervalMs, 0);
  }

  /** Asks for a report soon (a Docker event of another container); a burst within debounceMs yields one. */
  kick(): void {
    this.loop.kick();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /**
   * The watcher completed a scan of `desiredRevision` (its events are already
   * emitted). The first such scan of a revision is reported at once, after any
   * report already running (which may not carry it).
   */
  async afterScan(desiredRevision: string): Promise<void> {
    if (this.loop.stopped || desiredRevision === this.scanned) return;
    this.scanned = desiredRevision;
    await this.loop.runOnce().catch((err: unknown) => {
      if (!(err instanceof LoopStoppedError)) throw err; // stopping: the scan is not reported any more
    });
  }

  /** One report now, or right after the one in progress. */
  runOnce(): Promise<void> {
    return this.loop.runOnce();
  }

  private async report(): Promise<void> {
    const desired = this.deps.desired();
    if (!desired) return;
    let all: ListedContainer[];
    try {
      all = await this.deps.docker.listAllContainers();
    } catch (err) {
      this.deps.log.debug({ err: errorMessage(err) }, 'inventory: cannot list containers'); // the watcher reports docker_unreachable
      return;
    }
    const inv = unmanagedContainers(all, desired);
    const session = this.deps.session;
    const scan: InventoryScan | undefined =
      this.scanned !== null && session ? { session: session.session, desiredRevision: this.scanned, sessionFromSeq: session.fromSeq } : undefined;
    const key = JSON.stringify([inv, scan]);
    if (key === this.last) return;
    const sent = await this.deps.sink.emit({
      type: 'node_inventory',
      data: { ...(inv.truncated ? inv : { unmanaged: inv.unmanaged }), ...(scan ? { scan } : {}) },
    });
    if (sent) this.last = key;
  }
}
