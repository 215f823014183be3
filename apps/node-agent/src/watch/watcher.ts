import type { Clock } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { LoopStoppedError, PeriodicLoop } from '@homelab/runtime';
import type { DockerPort, EventSubscription } from '../docker/docker-port';
import { AgentError, errorMessage } from '../errors';
import { CrashLoopDetector } from './crash-loop';
import { assessService, type Assessment, type WatchedService } from './health';
import type { ProbeScheduler } from './probe-scheduler';
import type { EventDraft, EventSink } from '../delivery/stamper';

export interface HostStats {
  uptimeSec?: number;
  load1?: number;
  memUsedPercent?: number;
  cpuPercent?: number;
  load5?: number;
  load15?: number;
  agentRssMb?: number;
  cpuTempC?: number;
  memAvailableMb?: number;
  throttled?: number;
}

export interface ServiceWatcherDeps {
  docker: DockerPort;
  /** Monitored desired services, read at every scan (so desired changes apply at once). */
  services: () => WatchedService[];
  /** Revision of the desired state `services` comes from; null while none is known. Read with it. */
  desiredRevision?: () => string | null;
  /**
   * After a scan that gave every service its verdict (Docker answered), with the
   * revision it covered; awaited, so whatever it emits follows the scan's events.
   */
  onScanned?: (desiredRevision: string) => Promise<void>;
  sink: EventSink;
  clock: Clock;
  log: Logger;
  scanMs: number;
  heartbeatMs: number;
  /** Runs the services' declared probes; its verdicts join each assessment. */
  probes?: ProbeScheduler;
  /** A Docker event of a container of no watched service (the inventory may have changed). */
  onOtherEvent?: () => void;
  /** The first Docker event after a quiet spell is scanned at once; the rest of its burst is coalesced for this long. Default 20 ms. */
  debounceMs?: number;
  /** Ceiling of the retry backoff while Docker is unreachable. Default 30 s. */
  maxBackoffMs?: number;
  hostStats?: () => HostStats;
}

/**
 * Level-triggered service watch. `runOnce()` observes the containers of every
 * monitored service, assesses each (health.ts) and emits on change:
 * `service_unhealthy` (reason, detail, containers), `service_starting` (no
 * verdict yet) or `service_healthy` — also on recovery; `service_recovered` is
 * not used, `service_healthy` after an unhealthy one is the recovery. The first
 * scan of a process emits every service, so a scan Docker answered and whose
 * events were all sent is a complete report (`onScanned`). Every heartbeatMs
 * the current state of each service is repeated with `data.heartbeat: true`,
 * plus one `node_heartbeat`.
 * A Docker event of a watched container triggers a scan at once, the rest of
 * its burst one more after 20 ms; the periodic scan catches anything the
 * stream missed. Docker unreachable → one
 * `docker_unreachable`, retries with backoff, `docker_reachable` when back.
 */
export class ServiceWatcher {
  private readonly known = new Map<string, Assessment>();
  private readonly crashLoops = new CrashLoopDetector();
  private dockerUp: boolean | null = null;
  private lastHeartbeatAt: number | null = null;
  private subscription: EventSubscription | null = null;
  private subscribing = false;
  private readonly loop: PeriodicLoop<void>;
  scans = 0;

  constructor(private readonly deps: ServiceWatcherDeps) {
    this.loop = new PeriodicLoop({
      name: 'service watch',
      clock: deps.clock,
      log: deps.log,
      run: () => this.scan(),
      debounceMs: deps.debounceMs ?? 20,
      // A death is scanned at once; the rest of its burst of events (stop, …) costs one more scan (docs/loops.md).
      leading: true,
      kickBeforeStart: true,
      // Only a scan Docker did not answer fails: retried after 1 s, 2 s, 4 s… up to maxBackoffMs.
      backoff: { baseMs: 1000, maxMs: deps.maxBackoffMs ?? 30_000 },
      onFailure: (err) => this.logFailure(err),
    });
  }

  /** One scan; concurrent calls coalesce into at most one more scan after the running one. Never rejects. */
  runOnce(): Promise<void> {
    return this.loop.runOnce().catch((err: unknown) => this.logFailure(err));
  }

  /** Asks for a scan soon; a burst of calls within debounceMs yields one scan. */
  kick(): void {
    this.loop.kick();
  }

  /** Scans now, then every scanMs (or with backoff while Docker is unreachable). */
  start(): void {
    this.loop.start(this.deps.scanMs, 0);
  }

  async stop(): Promise<void> {
    const stopped = this.loop.stop();
    this.subscription?.close();
    this.subscription = null;
    await Promise.all([stopped, this.deps.probes?.stop()]);
  }

  /** Current verdicts (for tests and status output). */
  states(): ReadonlyMap<string, Assessment> {
    return this.known;
  }

  /** Docker unreachable was reported when it happened (docker_unreachable); a stopped watcher scans no more. */
  private logFailure(err: unknown): void {
    if (err instanceof LoopStoppedError || (err instanceof AgentError && err.code === 'docker_unreachable')) return;
    this.deps.log.error({ err: errorMessage(err) }, 'scan failed');
  }

  private async scan(): Promise<void> {
    const { docker, sink, log } = this.deps;
    this.scans += 1;
    const revision = this.deps.desiredRevision?.() ?? null;
    const services = this.deps.services();
    const names = [...new Set(services.flatMap((s) => s.containers))];
    let observations;
    try {
      const ping = this.dockerUp !== true || names.length === 0 ? await docker.ping() : undefined;
      observations = await docker.observe(names);
      if (this.dockerUp === false) {
        log.info('docker reachable again');
        await sink.emit({ type: 'docker_reachable', data: ping?.version ? { version: ping.version } : {} });
      }
      this.dockerUp = true;
    } catch (err) {
      const unreachable = await this.onDockerError(err);
      await this.heartbeat(services.length, []);
      // A failed cycle: the loop retries with backoff.
      if (unreachable) throw new AgentError('docker_unreachable', errorMessage(err), { cause: err });
      return;
    }
    this.ensureSubscribed();
    const probes = this.deps.probes;
    probes?.sync(services.flatMap((s) => (s.probes?.length ? [{ service: s.name, probes: s.probes }] : [])));
    const crashLoops = this.crashLoops.observe(observations, this.deps.clock.now().getTime());
    this.crashLoops.retain(new Set(names));

    const repeats: Array<[string, Assessment]> = [];
    let complete = true;
    for (const service of services) {
      const signals =
        probes && service.probes?.length ? { crashLoops, probe: probes.failing(service.name), probesSettled: probes.settled(service.name) } : { crashLoops };
      const now = assessService(service, observations, signals);
      const prev = this.known.get(service.name);
      this.known.set(service.name, now);
      if (!prev || prev.status !== now.status || prev.reason !== now.reason || prev.probe !== now.probe) {
        // Not emitted: forget the verdict so the next scan sends it, and claim no complete report.
        if ((await sink.emit(draftFor(service.name, now, false))) === null) {
          this.known.delete(service.name);
          complete = false;
        }
      } else repeats.push([service.name, now]);
    }
    const watched = new Set(services.map((s) => s.name));
    for (const name of this.known.keys()) if (!watched.has(name)) this.known.delete(name);
    await this.heartbeat(services.length, repeats);
    if (complete && revision !== null) await this.deps.onScanned?.(revision);
  }

  /** Reports a failed Docker call; whether Docker is unreachable. */
  private async onDockerError(err: unknown): Promise<boolean> {
    const code = err instanceof AgentError ? err.code : 'docker_unreachable';
    if (code !== 'docker_unreachable') {
      this.deps.log.warn({ err: errorMessage(err) }, 'docker scan failed');
      return false;
    }
    this.subscription?.close();
    this.subscription = null;
    if (this.dockerUp !== false) {
      this.dockerUp = false;
      this.deps.log.warn({ err: errorMessage(err) }, 'docker unreachable');
      await this.deps.sink.emit({ type: 'docker_unreachable', data: { detail: errorMessage(err).slice(0, 500) } });
    }
    return true;
  }

  /** Every heartbeatMs: repeats of unchanged service states, then one node_heartbeat. */
  private async heartbeat(services: number, repeats: Array<[string, Assessment]>): Promise<void> {
    const now = this.deps.clock.now().getTime();
    if (this.lastHeartbeatAt !== null && now - this.lastHeartbeatAt < this.deps.heartbeatMs) return;
    this.lastHeartbeatAt = now;
    for (const [name, k] of repeats) await this.deps.sink.emit(draftFor(name, k, true));
    await this.deps.sink.emit({ type: 'node_heartbeat', data: { ...this.deps.hostStats?.(), services } });
  }

  private ensureSubscribed(): void {
    if (this.subscription || this.subscribing || this.loop.stopped) return;
    this.subscribing = true;
    this.deps.docker
      .subscribe({
        onEvent: (e) => {
          if (this.deps.services().some((s) => s.containers.includes(e.name))) this.kick();
          else this.deps.onOtherEvent?.();
        },
        onEnd: (err) => {
          this.subscription = null;
          if (this.loop.stopped) return;
          this.deps.log.info({ err: err ? errorMessage(err) : undefined }, 'docker event stream ended');
          this.kick();
        },
      })
      .then(
        (sub) => {
          this.subscribing = false;
          if (this.loop.stopped) sub.close();
          else {
            this.subscription = sub;
            // Full resync: whatever happened before the stream (re)opened is not in it.
            this.kick();
          }
        },
        (err: unknown) => {
          this.subscribing = false;
          this.deps.log.warn({ err: errorMessage(err) }, 'could not subscribe to docker events; periodic scans continue');
        },
      );
  }
}

function draftFor(service: string, a: Assessment, heartbeat: boolean): EventDraft {
  const hb = heartbeat ? { heartbeat: true } : {};
  if (a.status === 'healthy') return { type: 'service_healthy', service, data: { containers: a.containers, ...hb } };
  if (a.status === 'starting') return { type: 'service_starting', service, data: { containers: a.containers, ...hb } };
  const probe = a.probe === undefined ? {} : { probe: a.probe };
  return { type: 'service_unhealthy', service, data: { reason: a.reason!, detail: a.detail, containers: a.containers, ...hb, ...probe } };
}
