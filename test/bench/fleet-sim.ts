/**
 * One process of the fleet benchmark's simulated agents (test/bench/fleet.ts):
 *
 *   node --import tsx test/bench/fleet-sim.ts --url mqtt://127.0.0.1:1883 --first 0 --count 250 \
 *     --services 20 --dir /tmp/x --ramp-ms 60000 --fail-per-min 0.01 --self-heal-ms 300000
 *
 * Each agent is the real NodeAgent (package entry point @homelab/node-agent: seq
 * lease, on-disk outbox, MQTT.js link with its own connection and identity,
 * watcher, inventory, command handler) at the production scan and heartbeat
 * intervals (AGENT_SETTINGS defaults), on a FleetDocker instead of a Docker
 * socket. Node i is `fleet-<i>` with services svc-00 … svc-<n-1>, one container
 * each, all running; its MQTT secret is testSecret(node) (test/support/mqtt-identities.ts).
 *
 * stdout, JSON lines: {"ready": n} once every agent has started (they start one
 * after another over --ramp-ms, so 1,000 connections are no thundering herd),
 * then {"status": {...}} every 2 s. stdin: `fail` starts the failures, `stop`
 * stops every agent and exits.
 *
 * Failures: from `fail` on, a Poisson process turns --fail-per-min of this
 * process's services per minute unhealthy (container `exited`, a `die` event, as
 * Docker would). Each is appended to <dir>/failures-<first>.jsonl with the
 * wall-clock time of the change: {"node","service","at"}. The container runs
 * again when the hub's restart command arrives through the agent
 * ({"…","restoredAt","by":"hub"}), or by itself after --self-heal-ms
 * (`"by":"self"`, as a container's own restart policy would).
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { systemClock, type ContainerObservation } from '@homelab/contracts';
import { createLogger } from '@homelab/logging';
import { AgentError, connectMqttJs, NodeAgent, osHostStats, parseAgentConfig, type DockerPort, type NodeAgentDeps } from '@homelab/node-agent';
import { testSecret } from '../support/mqtt-identities';
import { fleetNode, fleetService } from './fleet-setup';

type InventoryPort = NonNullable<NonNullable<NodeAgentDeps['capabilities']>['inventory']>;
type ListedContainer = Awaited<ReturnType<InventoryPort['listAllContainers']>>[number];
type Handlers = Parameters<DockerPort['subscribe']>[0];

/** A node's Docker in memory: one running container per service; fail() and heal() change a state and send the event Docker would. */
class FleetDocker implements DockerPort, InventoryPort {
  private readonly containers = new Map<string, ContainerObservation>();
  private handlers: Handlers[] = [];

  constructor(
    names: string[],
    private readonly onRestart: (name: string) => void,
  ) {
    for (const name of names) this.containers.set(name, { name, state: 'running', restartCount: 0 });
  }

  async observe(names: readonly string[]): Promise<ContainerObservation[]> {
    return names.flatMap((n) => {
      const c = this.containers.get(n);
      return c ? [{ ...c }] : [];
    });
  }

  async restartContainer(name: string): Promise<void> {
    const c = this.containers.get(name);
    if (!c) throw new AgentError('not_found', `container ${name} does not exist`);
    const wasDown = c.state !== 'running';
    c.state = 'running';
    this.fire(name, 'restart');
    if (wasDown) this.onRestart(name);
  }

  async subscribe(handlers: Handlers) {
    this.handlers.push(handlers);
    return { close: () => void (this.handlers = this.handlers.filter((h) => h !== handlers)) };
  }

  async ping() {
    return { version: 'fleet-sim' };
  }

  async listAllContainers(): Promise<ListedContainer[]> {
    return [...this.containers.values()].map((c) => ({ name: c.name, state: c.state, image: 'fleet/app:1', labels: {} }));
  }

  isRunning(name: string): boolean {
    return this.containers.get(name)?.state === 'running';
  }

  fail(name: string): void {
    this.containers.get(name)!.state = 'exited';
    this.fire(name, 'die');
  }

  heal(name: string): void {
    this.containers.get(name)!.state = 'running';
    this.fire(name, 'start');
  }

  private fire(name: string, action: 'die' | 'start' | 'restart'): void {
    for (const h of this.handlers) h.onEvent({ name, action });
  }
}

interface SimAgent {
  node: string;
  agent: NodeAgent;
  docker: FleetDocker;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      first: { type: 'string', default: '0' },
      count: { type: 'string', default: '10' },
      services: { type: 'string', default: '20' },
      dir: { type: 'string' },
      'ramp-ms': { type: 'string', default: '10000' },
      'fail-per-min': { type: 'string', default: '0.01' },
      'self-heal-ms': { type: 'string', default: '300000' },
    },
  });
  if (!values.url || !values.dir) throw new Error('--url and --dir are required');
  const first = Number(values.first);
  const count = Number(values.count);
  const services = Array.from({ length: Number(values.services) }, (_, s) => fleetService(s));
  const rampMs = Number(values['ramp-ms']);
  const failPerMin = Number(values['fail-per-min']);
  const selfHealMs = Number(values['self-heal-ms']);
  const log = createLogger('fleet-sim', {}, { stream: process.stderr });
  const failuresFd = fs.openSync(path.join(values.dir, `failures-${first}.jsonl`), 'a');
  const record = (o: Record<string, unknown>) => fs.writeSync(failuresFd, `${JSON.stringify(o)}\n`);
  const out = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
  const counts = { failed: 0, restoredByHub: 0, selfHealed: 0 };
  const down = new Map<string, NodeJS.Timeout>();

  const agents: SimAgent[] = [];
  const startOne = async (i: number) => {
    const node = fleetNode(i);
    const restored = (service: string) => {
      const key = `${node}/${service}`;
      const timer = down.get(key);
      if (!timer) return;
      clearTimeout(timer);
      down.delete(key);
      counts.restoredByHub++;
      record({ node, service, restoredAt: Date.now(), by: 'hub' });
    };
    const docker = new FleetDocker(services, restored);
    // Only what a real agent's environment would hold: the production intervals stay at their defaults.
    const config = parseAgentConfig(
      { HOMELAB_MQTT_PASSWORD: testSecret(node) },
      { node, 'mqtt-url': values.url, 'state-dir': path.join(values.dir!, 'agents', node), 'docker-socket': '/nonexistent/fleet-sim.sock' },
    );
    const agent = new NodeAgent({
      config,
      log: log.child({ node }),
      clock: systemClock,
      docker,
      capabilities: { inventory: docker },
      connectMqtt: connectMqttJs,
      hostStats: osHostStats,
    });
    await agent.start();
    agents.push({ node, agent, docker });
  };
  const t0 = Date.now();
  for (let k = 0; k < count; k++) {
    const wait = t0 + (k * rampMs) / count - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await startOne(first + k);
  }
  out({ ready: agents.length });

  const status = () => ({
    started: agents.length,
    connected: agents.filter((a) => a.agent.snapshot()?.connected).length,
    down: down.size,
    ...counts,
  });
  const statusTimer = setInterval(() => out({ status: status() }), 2000);

  const fail = () => {
    // Tries a few random picks for a running container of a connected agent.
    for (let tries = 0; tries < 20; tries++) {
      const a = agents[Math.floor(Math.random() * agents.length)]!;
      const service = services[Math.floor(Math.random() * services.length)]!;
      const key = `${a.node}/${service}`;
      if (down.has(key) || !a.docker.isRunning(service) || !a.agent.snapshot()?.connected) continue;
      const at = Date.now();
      a.docker.fail(service);
      counts.failed++;
      record({ node: a.node, service, at });
      down.set(
        key,
        setTimeout(() => {
          down.delete(key);
          if (a.docker.isRunning(service)) return;
          a.docker.heal(service);
          counts.selfHealed++;
          record({ node: a.node, service, restoredAt: Date.now(), by: 'self' });
        }, selfHealMs),
      );
      return;
    }
  };
  // Failures per ms across this process's services; exponential gaps make a Poisson process.
  const lambda = (count * services.length * failPerMin) / 60_000;
  let failTimer: NodeJS.Timeout | undefined;
  const scheduleFailure = () => {
    if (lambda <= 0) return;
    failTimer = setTimeout(
      () => {
        fail();
        scheduleFailure();
      },
      -Math.log(1 - Math.random()) / lambda,
    );
  };

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(statusTimer);
    clearTimeout(failTimer);
    for (const t of down.values()) clearTimeout(t);
    await Promise.all(agents.map((a) => a.agent.stop().catch(() => undefined)));
    fs.closeSync(failuresFd);
    out({ stopped: agents.length });
    process.exit(0);
  };
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    if (line === 'fail' && failTimer === undefined) scheduleFailure();
    if (line === 'stop') void stop();
  });
  process.on('SIGTERM', () => void stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`fleet-sim failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
