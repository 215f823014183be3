import type Docker from 'dockerode';
import { z } from 'zod';
import type { ContainerObservation } from '@homelab/contracts';
import { AgentError } from '../errors';
import {
  WATCHED_ACTIONS,
  type CleanupDockerPort,
  type ContainerEvent,
  type DanglingImage,
  type DockerPort,
  type InventoryDockerPort,
  type ListedContainer,
  type StoppedContainer,
  type UnusedVolume,
  type EventHandlers,
  type EventSubscription,
  type WatchedAction,
} from './docker-port';

type HttpError = Error & { statusCode?: number };

/** Socket-level failures mean Docker is unreachable; an HTTP error status means it answered. */
function toAgentError(err: unknown, what: string): AgentError {
  const e = err as HttpError;
  if (typeof e?.statusCode === 'number') {
    return new AgentError(e.statusCode === 404 ? 'not_found' : 'docker_failed', `${what}: Docker answered ${e.statusCode}: ${e.message}`, { cause: err });
  }
  return new AgentError('docker_unreachable', `${what}: ${e?.message ?? String(err)}`, { cause: err });
}

/** DockerPort over dockerode (the Engine API on a unix socket). Built only by main.ts. */
export class DockerodePort implements DockerPort, CleanupDockerPort, InventoryDockerPort {
  constructor(private readonly docker: Docker) {}

  /** Every container, running or not (one Engine call): the inventory. */
  async listAllContainers(): Promise<ListedContainer[]> {
    const list = await this.docker.listContainers({ all: true }).catch((err: unknown) => {
      throw toAgentError(err, 'list containers');
    });
    return list.map((c) => ({
      name: (c.Names?.[0] ?? c.Id).replace(/^\//, ''),
      state: String(c.State ?? 'unknown'),
      image: c.Image,
      labels: c.Labels ?? {},
      ...(typeof c.Status === 'string' ? { status: c.Status } : {}),
    }));
  }

  /** The engine's data-root (`DockerRootDir`), a disk the agent watches by default. */
  async dataRoot(): Promise<string | undefined> {
    const info = (await this.docker.info().catch((err: unknown) => {
      throw toAgentError(err, 'info');
    })) as { DockerRootDir?: unknown };
    return typeof info.DockerRootDir === 'string' && info.DockerRootDir.startsWith('/') ? info.DockerRootDir : undefined;
  }

  async observe(names: readonly string[]): Promise<ContainerObservation[]> {
    const out = await Promise.all(names.map((n) => this.inspectExact(n)));
    return out.flatMap((info) => (info ? [observation(info)] : []));
  }

  async restartContainer(name: string, stopTimeoutSec: number): Promise<void> {
    const info = await this.inspectExact(name);
    if (!info) throw new AgentError('not_found', `container ${name} does not exist`);
    // By id: a name could also resolve to a container whose id starts with it.
    await this.docker
      .getContainer(info.Id)
      .restart({ t: stopTimeoutSec })
      .catch((err: unknown) => {
        throw toAgentError(err, `restart ${name}`);
      });
  }

  async subscribe(handlers: EventHandlers): Promise<EventSubscription> {
    const stream = (await this.docker.getEvents({ filters: { type: ['container'], event: [...WATCHED_ACTIONS] } }).catch((err: unknown) => {
      throw toAgentError(err, 'events');
    })) as NodeJS.ReadableStream & { destroy?: () => void };
    let buffered = '';
    let closed = false;
    const end = (err?: unknown) => {
      if (closed) return;
      closed = true;
      handlers.onEnd(err);
    };
    stream.on('data', (chunk: Buffer | string) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        const e = line ? parseEvent(line) : null;
        if (e) handlers.onEvent(e);
      }
      if (buffered.length > 1024 * 1024) buffered = ''; // a runaway line is no event of ours
    });
    stream.on('error', (err: unknown) => end(err));
    stream.on('end', () => end());
    stream.on('close', () => end());
    return {
      close: () => {
        closed = true;
        stream.destroy?.();
      },
    };
  }

  async ping(): Promise<{ version?: string }> {
    try {
      const v = await this.docker.version();
      return { version: typeof v.Version === 'string' ? v.Version.slice(0, 64) : undefined };
    } catch (err) {
      throw toAgentError(err, 'ping');
    }
  }

  async stoppedContainers(): Promise<StoppedContainer[]> {
    const list = await this.docker.listContainers({ all: true, size: true, filters: { status: ['exited', 'created', 'dead'] } }).catch((err: unknown) => {
      throw toAgentError(err, 'list containers');
    });
    return list.map((c) => ({
      id: c.Id,
      name: (c.Names?.[0] ?? c.Id).replace(/^\//, ''),
      labels: c.Labels ?? {},
      bytes: Math.max(0, (c as { SizeRw?: number }).SizeRw ?? 0),
    }));
  }

  async danglingImages(): Promise<DanglingImage[]> {
    const list = await this.docker.listImages({ filters: { dangling: ['true'] } }).catch((err: unknown) => {
      throw toAgentError(err, 'list images');
    });
    return list.map((i) => ({ id: i.Id, labels: i.Labels ?? {}, bytes: Math.max(0, i.Size ?? 0) }));
  }

  async unusedVolumes(): Promise<UnusedVolume[]> {
    const list = await this.docker.listVolumes({ filters: { dangling: ['true'] } }).catch((err: unknown) => {
      throw toAgentError(err, 'list volumes');
    });
    // Sizes only come from the disk usage report (slow on big hosts, hence asked only here); best effort.
    const sizes = new Map<string, number>();
    const df = (await this.docker.df().catch(() => null)) as { Volumes?: { Name: string; UsageData?: { Size?: number } }[] } | null;
    for (const v of df?.Volumes ?? []) sizes.set(v.Name, Math.max(0, v.UsageData?.Size ?? 0));
    return (list.Volumes ?? []).map((v) => ({ name: v.Name, labels: v.Labels ?? {}, bytes: sizes.get(v.Name) ?? 0 }));
  }

  async removeVolume(name: string): Promise<void> {
    await this.docker
      .getVolume(name)
      .remove({ force: false })
      .catch((err: unknown) => {
        throw toAgentError(err, `remove volume ${name}`);
      });
  }

  async removeContainer(id: string): Promise<void> {
    await this.docker
      .getContainer(id)
      .remove({ v: false, force: false })
      .catch((err: unknown) => {
        throw toAgentError(err, `remove container ${id.slice(0, 12)}`);
      });
  }

  async removeImage(id: string): Promise<void> {
    await this.docker
      .getImage(id)
      .remove({ force: false, noprune: false })
      .catch((err: unknown) => {
        throw toAgentError(err, `remove image ${id.slice(0, 19)}`);
      });
  }

  async pruneBuildCache(): Promise<{ supported: boolean; bytes: number; detail?: string }> {
    try {
      const res = (await this.docker.pruneBuilder()) as { SpaceReclaimed?: number };
      return { supported: true, bytes: Math.max(0, res?.SpaceReclaimed ?? 0) };
    } catch (err) {
      const e = toAgentError(err, 'prune build cache');
      if (e.code === 'docker_unreachable') throw e;
      return { supported: false, bytes: 0, detail: e.message };
    }
  }

  /** Inspect by name, accepting only a container whose name is exactly `name`. */
  private async inspectExact(name: string): Promise<Docker.ContainerInspectInfo | null> {
    try {
      const info = await this.docker.getContainer(name).inspect();
      return info.Name === `/${name}` ? info : null;
    } catch (err) {
      const e = toAgentError(err, `inspect ${name}`);
      if (e.code === 'not_found') return null;
      throw e;
    }
  }
}

function observation(info: Docker.ContainerInspectInfo): ContainerObservation {
  const health = info.State.Health?.Status;
  return {
    name: info.Name.replace(/^\//, ''),
    state: String(info.State.Status).slice(0, 32),
    ...(health && health !== 'none' ? { health: String(health).slice(0, 32) } : {}),
    restartCount: Math.max(0, info.RestartCount ?? 0),
  };
}

/** The part of an Engine event-stream line the agent reads. */
const EngineEvent = z.object({
  Type: z.literal('container'),
  Action: z.string().max(256),
  Actor: z.object({ Attributes: z.object({ name: z.string().max(256) }) }),
});

/** One line of the Engine's event stream → our event, or null for anything else. */
export function parseEvent(line: string): ContainerEvent | null {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return null;
  }
  const parsed = EngineEvent.safeParse(json);
  if (!parsed.success) return null;
  const action = parsed.data.Action.split(':')[0]!.trim();
  if (!(WATCHED_ACTIONS as readonly string[]).includes(action)) return null;
  return { name: parsed.data.Actor.Attributes.name, action: action as WatchedAction };
}
