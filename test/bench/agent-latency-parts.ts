import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { sleep } from './agent-stack';

/**
 * Pieces of `npm run bench -- latency` beside the kill loop (agent-latency.ts):
 * the engine's floor, the busy core of the loaded phase, and the timestamps
 * along the restore path.
 */

export type Lifecycle = Array<{ name: string; action: string; atMs: number }>;

/** The first engine event `action` of `name` at or after `afterMs` (engine time), once seen. */
export async function lifecycleEvent(lifecycle: Lifecycle, name: string, action: string, afterMs: number, what: string): Promise<number> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const e = lifecycle.find((x) => x.name === name && x.action === action && x.atMs >= afterMs);
    if (e) return e.atMs;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

export interface FloorSample {
  /** From the bench's start request to the engine's `start` event: what the engine itself needs. */
  toStartEventMs: number;
  /** From the request to the API's answer. */
  callMs: number;
}

/**
 * The engine's floor for one container: SIGKILL it and, once the engine has it
 * stopped, time `POST /containers/<id>/start`, with the agent frozen (SIGSTOP)
 * so that neither it nor the hub acts on the container and the engine serves
 * the bench alone. Thawed, the agent's scan finds the container running as
 * before: no event, nothing for the hub to do.
 */
export async function measureFloor(docker: Docker, lifecycle: Lifecycle, name: string, agentPid: number): Promise<FloorSample> {
  const c = docker.getContainer(name);
  process.kill(agentPid, 'SIGSTOP');
  try {
    const t0 = Date.now() - 1;
    await c.kill();
    const die = await lifecycleEvent(lifecycle, name, 'die', t0, `die of ${name} (floor)`);
    while ((await c.inspect()).State.Running) await sleep(2);
    const requested = Date.now();
    const t = performance.now();
    await c.start();
    const callMs = performance.now() - t;
    const started = await lifecycleEvent(lifecycle, name, 'start', Math.max(die, requested - 1), `start of ${name} (floor)`);
    return { toStartEventMs: started - requested, callMs };
  } finally {
    process.kill(agentPid, 'SIGCONT');
  }
}

/**
 * The loaded phase's load: `node -e 'for(;;){}'` pinned with `taskset -c` to
 * the machine's last core, at normal priority; everything else (dockerd,
 * Mosquitto, hub, agent, bench) is not pinned and shares what is left.
 */
export function startBusyCore(): { cpu: number; describe: string; stop: () => void } {
  const cpu = os.cpus().length - 1;
  const child = spawn('taskset', ['-c', String(cpu), process.execPath, '-e', 'for(;;){}'], { stdio: 'ignore' });
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', stop);
  return { cpu, describe: `\`taskset -c ${cpu} node -e 'for(;;){}'\` (one core of ${os.cpus().length} spinning)`, stop };
}

/** The stages of one restore, in ms, each from the previous timestamp. */
export interface Stages {
  /** Engine `die` → the agent stamps `service_unhealthy` (Docker event, inspect). */
  agentEvent: number;
  /** → the hub receives it (`rx`): agent outbox, MQTT. */
  hubRx: number;
  /** → the supervisor's cycle that proposes the restart begins (the action's `createdAt`): hub log fsync, observer fold, kick. */
  proposal: number;
  /** → the executor claims it (`command.sentAt`): the supervisor's cycle (create, approve by policy), executor kick. */
  executor: number;
  /** → the agent begins (`result.startedAt`): running state durable, command over MQTT. */
  agentCommand: number;
  /** → the engine's `start` event: the agent's journal, inspect and the restart call. */
  engineStart: number;
}

export const STAGE_LABELS: Record<keyof Stages, string> = {
  agentEvent: 'agent stamps `service_unhealthy` (Docker event, inspect)',
  hubRx: 'hub receives it (`rx`: agent outbox fsync, MQTT)',
  proposal: "supervisor's cycle begins (action `createdAt`: hub log fsync, observer fold, kick)",
  executor: 'executor claims the action (`command.sentAt`: create, approve by policy, kick)',
  agentCommand: 'agent begins the command (`result.startedAt`: running state durable, MQTT)',
  engineStart: "engine's `start` event (agent journal fsync, inspect, `restart` call)",
};

interface ActionFile {
  createdAt: string;
  drift?: { eventIds?: string[] };
  command?: { sentAt: string };
  result?: { startedAt: string };
}

/** The restart action the hub ran for the unhealthy event `eventId` of `service`, from its file in `completed/`. */
export async function restartActionFor(root: string, node: string, service: string, eventId: string): Promise<ActionFile> {
  const file = path.join(root, 'actions', 'completed', `container-restart-${node}-${service}.json`);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const a = JSON.parse(await fs.readFile(file, 'utf8').catch(() => 'null')) as ActionFile | null;
    if (a?.drift?.eventIds?.includes(eventId) && a.command && a.result) return a;
    if (Date.now() > deadline) throw new Error(`no completed restart of ${service} for event ${eventId}`);
    await sleep(20);
  }
}

export function stagesOf(dieMs: number, agentTs: string, rxMs: number, a: ActionFile, startMs: number): Stages {
  const stamped = Date.parse(agentTs);
  const created = Date.parse(a.createdAt);
  const sent = Date.parse(a.command!.sentAt);
  const begun = Date.parse(a.result!.startedAt);
  return {
    agentEvent: stamped - dieMs,
    hubRx: rxMs - stamped,
    proposal: created - rxMs,
    executor: sent - created,
    agentCommand: begun - sent,
    engineStart: startMs - begun,
  };
}
