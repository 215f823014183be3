import fs from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import { ensureBusyboxImage, freePort, sleep, spawnLogged, startDockerd, type DockerdHandle, type LoggedProcess } from '@homelab/testkit';
import { agentBundleProcess } from '../support/agent-process';
import { CLI, REPO_ROOT, spawnHub, startBenchMosquitto, type BenchMosquitto } from './procs';

/**
 * What the agent benchmarks run on: a private dockerd, a Mosquitto, the real
 * hub (`homelab hub --mqtt-url`) and the real agent started as a user starts
 * it from a checkout, `homelab agent` (apps/cli/bin/homelab.mjs), which runs
 * the agent-only bundle the agent image ships (deploy/agent-bundle.mjs) with
 * the image's Node flags, all on loopback.
 */
export interface AgentStack {
  dockerd: DockerdHandle;
  docker: Docker;
  image: string;
  mosquitto: BenchMosquitto;
  hub: LoggedProcess;
  /** `homelab agent` as started. */
  agent: LoggedProcess;
  /** The process running the agent bundle: agent.pid itself (process.execve) or its one child. */
  agentPid: number;
  /** The `homelab agent` process in front of it when it is not the same (a Node without process.execve), else null. */
  launcherPid: number | null;
  /** The agent's node command line after the node binary, up to `agent`, paths relative to the repository. */
  agentCommand: string;
  root: string;
  node: string;
  /** Appended hub lines of the node's event stream, with the time each was first seen. */
  tail: EventTail;
  stop(): Promise<void>;
}

export interface AgentStackOptions {
  dir: string;
  node: string;
  /** services.yaml of the node, written before the hub starts. */
  servicesYaml: string;
  /** Containers to create (and start) before the agent starts. */
  containers: string[];
  agentEnv?: NodeJS.ProcessEnv;
  log: (s: string) => void;
}

export async function startAgentStack(o: AgentStackOptions): Promise<AgentStack> {
  await fs.mkdir(o.dir, { recursive: true });
  const dockerd = await startDockerd();
  const docker = dockerd.docker;
  const image = await ensureBusyboxImage(docker);
  for (const name of o.containers) {
    const c = await docker.createContainer({ name, Image: image, Cmd: ['sleep', '86400'], HostConfig: { NetworkMode: 'none' } });
    await c.start();
  }
  const mosquitto = await startBenchMosquitto(path.join(o.dir, 'mosquitto'));
  const root = path.join(o.dir, 'root');
  const hostsDir = path.join(o.dir, 'hosts');
  await fs.mkdir(path.join(hostsDir, o.node), { recursive: true });
  await fs.writeFile(path.join(hostsDir, o.node, 'services.yaml'), o.servicesYaml);
  const httpPort = await freePort();
  const hub = spawnHub(['--root', root, '--hosts', hostsDir, '--http-port', String(httpPort), '--mqtt-url', mosquitto.url], path.join(o.dir, 'hub.log'), {
    HOMELAB_SUPERVISOR_INTERVAL_MS: '5000',
  });
  await hub.waitForOutput('hub running', 60_000);
  const agent = spawnLogged(
    process.execPath,
    [CLI, 'agent', '--node', o.node, '--mqtt-url', mosquitto.url, '--docker-socket', dockerd.socketPath, '--state-dir', path.join(o.dir, 'agent-state')],
    { cwd: o.dir, env: { ...process.env, LOG_LEVEL: 'info', ...o.agentEnv }, logFile: path.join(o.dir, 'agent.log') },
  );
  await agent.waitForOutput('agent running', 90_000);
  const bundled = await agentBundleProcess(agent.pid);
  const launcherPid = bundled.pid === agent.pid ? null : agent.pid;
  const agentCommand = bundled.argv
    .slice(1, bundled.argv.indexOf('agent') + 1)
    .map((a) => (a.startsWith('/') ? path.relative(REPO_ROOT, a) : a))
    .join(' ');
  const tail = new EventTail(root, o.node);
  tail.start();
  o.log(
    `  stack up: dockerd ${dockerd.socketPath}, mosquitto ${mosquitto.url}, hub pid ${hub.pid}, agent pid ${bundled.pid}${launcherPid ? ` (under homelab agent, pid ${launcherPid})` : ''}: node ${agentCommand}`,
  );
  return {
    dockerd,
    docker,
    image,
    mosquitto,
    hub,
    agent,
    agentPid: bundled.pid,
    launcherPid,
    agentCommand,
    root,
    node: o.node,
    tail,
    stop: async () => {
      tail.stop();
      await agent.stop(10_000);
      await hub.stop(10_000);
      await mosquitto.stop();
      await dockerd.stop();
    },
  };
}

export interface SeenEvent {
  /** When the bench first saw the line in the hub's log (polled every pollMs). */
  seenAt: number;
  /** The hub's receive time of the event. */
  rx: number;
  event: { id: string; ts: string; type: string; service?: string; seq: number; data?: any };
}

/** Follows `events/<day>/<node>.jsonl` under the hub's root by polling the file sizes (every 5 ms). */
export class EventTail {
  readonly events: SeenEvent[] = [];
  private readonly offsets = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private partial = new Map<string, string>();
  private busy = false;

  constructor(
    private readonly root: string,
    private readonly node: string,
    private readonly pollMs = 5,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.pollMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** The first event after index `from` matching `pred`, once seen. */
  async waitFor(pred: (e: SeenEvent) => boolean, from: number, timeoutMs: number, what: string): Promise<SeenEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = from; i < this.events.length; i++) if (pred(this.events[i]!)) return this.events[i]!;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(5);
    }
  }

  private async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const days = (await fs.readdir(path.join(this.root, 'events')).catch(() => [] as string[])).filter((d) => /^\d{4}-/.test(d)).sort();
      for (const day of days) {
        const file = path.join(this.root, 'events', day, `${this.node}.jsonl`);
        const st = await fs.stat(file).catch(() => null);
        const off = this.offsets.get(file) ?? 0;
        if (!st || st.size <= off) continue;
        const fh = await fs.open(file, 'r');
        const buf = Buffer.alloc(st.size - off);
        await fh.read(buf, 0, buf.length, off);
        await fh.close();
        this.offsets.set(file, st.size);
        const now = Date.now();
        const text = (this.partial.get(file) ?? '') + buf.toString('utf8');
        const lines = text.split('\n');
        this.partial.set(file, lines.pop() ?? '');
        for (const line of lines) {
          if (!line) continue;
          const rec = JSON.parse(line) as { event: SeenEvent['event']; rx: string };
          this.events.push({ seenAt: now, rx: Date.parse(rec.rx), event: rec.event });
        }
      }
    } finally {
      this.busy = false;
    }
  }
}

/** Container lifecycle events as the engine reports them, with the engine's own timestamps. */
export async function watchContainerEvents(docker: Docker, onEvent: (e: { name: string; action: string; atMs: number }) => void): Promise<() => void> {
  const stream = (await docker.getEvents({ filters: { type: ['container'], event: ['die', 'start'] } })) as NodeJS.ReadableStream & { destroy(): void };
  let buf = '';
  stream.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.trim()) continue;
      const e = JSON.parse(line) as { Action: string; timeNano: number; Actor: { Attributes: { name: string } } };
      onEvent({ name: e.Actor.Attributes.name, action: e.Action, atMs: e.timeNano / 1e6 });
    }
  });
  return () => stream.destroy();
}

export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Resident memory (MB) of a process (Linux /proc). */
export async function rssMbOf(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** Memory (MB) only this process holds (Private_Dirty: heap, stacks, buffers), without the shared node binary. */
export async function privateMbOf(pid: number): Promise<number> {
  const rollup = await fs.readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
  return Number(/Private_Dirty:\s+(\d+)/.exec(rollup)?.[1] ?? NaN) / 1024;
}

export { sleep };
