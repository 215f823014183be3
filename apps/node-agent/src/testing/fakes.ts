import type { ContainerObservation, HomelabEvent } from '@homelab/contracts';
import { createLogger } from '@homelab/logging';
import type {
  CleanupDockerPort,
  ContainerEvent,
  DanglingImage,
  DockerPort,
  EventHandlers,
  EventSubscription,
  StoppedContainer,
  UnusedVolume,
} from '../docker/docker-port';
import { AgentError } from '../errors';
import type { MqttLink, PublishOptions } from '../delivery/mqtt-port';
import type { EventDraft, EventSink } from '../delivery/stamper';

/** For fast unit tests only; the integration test uses a real dockerd. */
export const silentLog = createLogger('test', { level: 'silent' });

export class FakeDocker implements DockerPort {
  readonly containers = new Map<string, ContainerObservation>();
  readonly restarts: string[] = [];
  reachable = true;
  version = '99.0-fake';
  failRestart: string | null = null;
  private handlers: EventHandlers[] = [];

  set(name: string, state: string, extra: Partial<ContainerObservation> = {}): void {
    this.containers.set(name, { name, state, restartCount: 0, ...extra });
  }

  async observe(names: readonly string[]): Promise<ContainerObservation[]> {
    this.assertUp();
    return names.flatMap((n) => {
      const c = this.containers.get(n);
      return c ? [{ ...c }] : [];
    });
  }

  async restartContainer(name: string): Promise<void> {
    this.assertUp();
    const c = this.containers.get(name);
    if (!c) throw new AgentError('not_found', `container ${name} does not exist`);
    if (this.failRestart === name) throw new AgentError('docker_failed', `restart ${name}: boom`);
    this.restarts.push(name);
    c.state = 'running';
  }

  async subscribe(handlers: EventHandlers): Promise<EventSubscription> {
    this.assertUp();
    this.handlers.push(handlers);
    return { close: () => (this.handlers = this.handlers.filter((h) => h !== handlers)) };
  }

  async ping(): Promise<{ version?: string }> {
    this.assertUp();
    return { version: this.version };
  }

  subscribers(): number {
    return this.handlers.length;
  }

  fire(e: ContainerEvent): void {
    for (const h of this.handlers) h.onEvent(e);
  }

  private assertUp(): void {
    if (!this.reachable) throw new AgentError('docker_unreachable', 'connect ENOENT /var/run/docker.sock');
  }
}

export interface Published {
  topic: string;
  payload: string;
  opts: PublishOptions;
}

export class FakeLink implements Pick<MqttLink, 'publish' | 'connected'> {
  readonly sent: Published[] = [];
  isConnected = true;
  /** While true, publishes stay unacknowledged (no PUBACK) until release(). */
  hold = false;
  /** Runs at each publish, before it is recorded (e.g. to check what is on disk at that moment). */
  onPublish?: (p: Published) => void;
  private held: Array<() => void> = [];

  async publish(topic: string, payload: string, opts: PublishOptions): Promise<void> {
    if (!this.isConnected) throw new Error('not connected');
    this.onPublish?.({ topic, payload, opts });
    this.sent.push({ topic, payload, opts });
    if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
  }

  /** PUBACKs everything held. */
  release(): void {
    this.hold = false;
    for (const r of this.held.splice(0)) r();
  }

  connected(): boolean {
    return this.isConnected;
  }

  json(topicEndsWith: string): any[] {
    return this.sent.filter((p) => p.topic.endsWith(topicEndsWith)).map((p) => JSON.parse(p.payload));
  }
}

export class RecordingSink implements EventSink {
  readonly drafts: EventDraft[] = [];
  /** Answers each draft as sent (stamped as the publisher would), or null (not sent) while true. */
  failing = false;
  async emit(draft: EventDraft): Promise<HomelabEvent | null> {
    this.drafts.push(draft);
    if (this.failing) return null;
    const seq = this.drafts.length;
    return { ...draft, id: `test-${seq}`, node: 'test', seq, ts: new Date(0).toISOString() } as HomelabEvent;
  }
  types(): string[] {
    return this.drafts.map((d) => ('service' in d && d.service ? `${d.type}:${d.service}` : d.type));
  }
  clear(): void {
    this.drafts.length = 0;
  }
}

/** Lets pending promise callbacks run (fake I/O resolves in microtasks). */
export async function flush(times = 10): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise((r) => setImmediate(r));
}

/** In-memory CleanupDockerPort: records removals; `inUse` images refuse removal like the engine (409). */
export class FakeCleanupDocker implements CleanupDockerPort {
  stopped: StoppedContainer[] = [];
  dangling: DanglingImage[] = [];
  readonly inUse = new Set<string>();
  readonly removedContainers: string[] = [];
  readonly removedImages: string[] = [];
  buildCache: { supported: boolean; bytes: number; detail?: string } = { supported: true, bytes: 0 };
  volumes: UnusedVolume[] = [];
  readonly removedVolumes: string[] = [];

  async stoppedContainers(): Promise<StoppedContainer[]> {
    return this.stopped.map((c) => ({ ...c }));
  }
  async danglingImages(): Promise<DanglingImage[]> {
    return this.dangling.map((i) => ({ ...i }));
  }
  async removeContainer(id: string): Promise<void> {
    this.removedContainers.push(id);
    this.stopped = this.stopped.filter((c) => c.id !== id);
  }
  async removeImage(id: string): Promise<void> {
    if (this.inUse.has(id)) throw new AgentError('docker_failed', `remove image ${id}: Docker answered 409: image is being used`);
    this.removedImages.push(id);
    this.dangling = this.dangling.filter((i) => i.id !== id);
  }
  async pruneBuildCache() {
    return this.buildCache;
  }
  async unusedVolumes(): Promise<UnusedVolume[]> {
    return this.volumes.map((v) => ({ ...v }));
  }
  async removeVolume(name: string): Promise<void> {
    this.removedVolumes.push(name);
    this.volumes = this.volumes.filter((v) => v.name !== name);
  }
}
