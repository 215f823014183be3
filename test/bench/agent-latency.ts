import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { lifecycleEvent, measureFloor, restartActionFor, stagesOf, startBusyCore, type Lifecycle, type Stages } from './agent-latency-parts';
import { sleep, startAgentStack, watchContainerEvents } from './agent-stack';

/**
 * `npm run bench -- latency`: a container's death → `service_unhealthy` in the
 * hub's log, and → the container running again (auto-approved low-risk
 * restart: agent → hub → supervisor → executor → agent → Docker), against a
 * docker-autoheal style poller of the Docker API every 5 s on twin
 * containers, killed right after, in the same run. After each round
 * the engine's floor: `docker start` of the same container, stopped the same
 * way, with nothing else acting on it. Two phases by default: a quiet
 * machine, then one core kept busy (docs/benchmarks.md).
 */
export const LATENCY_PHASES = ['quiet', 'loaded'] as const;
export type LatencyPhaseName = (typeof LATENCY_PHASES)[number];

export interface LatencyOptions {
  /** Kills per phase. */
  kills: number;
  pollerMs: number;
  phases: LatencyPhaseName[];
  dir: string;
  log: (s: string) => void;
}

export interface Side {
  detectMs: number[];
  restoreMs: number[];
}

export interface LatencyPhase {
  name: LatencyPhaseName;
  /** How the machine was loaded (the loaded phase's busy loop). */
  load?: string;
  /** 1-minute load average before and after the phase. */
  loadavg: [number, number];
  seconds: number;
  kills: number;
  ours: Side;
  poller: Side;
  /** Detection measured to the hub's receive time (`rx`) instead of the bench seeing the fsynced line. */
  oursRxMs: number[];
  /** The engine's floor for the same container in the same phase (agent-latency-parts.ts, measureFloor). */
  floorMs: number[];
  floorCallMs: number[];
  stages: Stages[];
}

export interface LatencySummary {
  pollerMs: number;
  phases: LatencyPhase[];
}

const PAIRS = 5;

/** docker-autoheal's design: list containers every `everyMs`, restart those of ours not running. */
function startPoller(docker: Docker, names: Set<string>, everyMs: number, onDetect: (name: string, at: number) => void): () => void {
  let stopped = false;
  const restarting = new Set<string>();
  const tick = async () => {
    const list = await docker.listContainers({ all: true }).catch(() => []);
    for (const c of list) {
      const name = (c.Names?.[0] ?? '').replace(/^\//, '');
      if (!names.has(name) || c.State === 'running' || restarting.has(name)) continue;
      onDetect(name, Date.now());
      restarting.add(name);
      void docker
        .getContainer(c.Id)
        .restart({ t: 10 })
        .catch(() => undefined)
        .finally(() => restarting.delete(name));
    }
  };
  const loop = async () => {
    while (!stopped) {
      const next = Date.now() + everyMs;
      await tick();
      await sleep(Math.max(0, next - Date.now()));
    }
  };
  void loop();
  return () => {
    stopped = true;
  };
}

export async function benchLatency(o: LatencyOptions): Promise<LatencySummary> {
  const node = 'bench';
  const ours = Array.from({ length: PAIRS }, (_, i) => `lat-agent-${i}`);
  const twins = Array.from({ length: PAIRS }, (_, i) => `lat-poller-${i}`);
  const yaml = [
    `node: ${node}`,
    "policy: {autoApprove: low, restartBudget: {max: 100, window: 1m, backoff: '0'}}",
    'services:',
    ...ours.map((c, i) => `  svc${i}:\n    containers: [${c}]`),
    '',
  ].join('\n');
  const stack = await startAgentStack({ dir: o.dir, node, servicesYaml: yaml, containers: [...ours, ...twins], log: o.log });
  const lifecycle: Lifecycle = [];
  const stopEvents = await watchContainerEvents(stack.docker, (e) => lifecycle.push(e));
  const detected: Array<{ name: string; at: number }> = [];
  const stopPoller = startPoller(stack.docker, new Set(twins), o.pollerMs, (name, at) => detected.push({ name, at }));
  const summary: LatencySummary = { pollerMs: o.pollerMs, phases: [] };
  let k = 0;

  /**
   * One round: kill a service container; once it runs again, its twin (so the
   * engine handles one death at a time, as in the floor); wait for both back,
   * then the floor on the same container.
   */
  const round = async (p: LatencyPhase) => {
    const i = k++ % PAIRS;
    const svc = `svc${i}`;
    // A random phase against the poller's period, and time for the previous round to settle.
    await sleep(500 + Math.random() * o.pollerMs);
    const from = stack.tail.events.length;
    const t0 = Date.now() - 1;
    await stack.docker.getContainer(ours[i]!).kill();
    const dieOurs = await lifecycleEvent(lifecycle, ours[i]!, 'die', t0, 'die');
    const unhealthy = await stack.tail.waitFor((e) => e.event.type === 'service_unhealthy' && e.event.service === svc, from, 30_000, `${svc} unhealthy`);
    const startOurs = await lifecycleEvent(lifecycle, ours[i]!, 'start', dieOurs, 'start after the restart');
    const t1 = Date.now() - 1;
    await stack.docker.getContainer(twins[i]!).kill();
    const diePoller = await lifecycleEvent(lifecycle, twins[i]!, 'die', t1, 'die (twin)');
    const startPoller = await lifecycleEvent(lifecycle, twins[i]!, 'start', diePoller, 'start of the twin');
    const polled = detected.find((d) => d.name === twins[i] && d.at >= t1)!;
    await stack.tail.waitFor((e) => e.event.type === 'service_healthy' && e.event.service === svc, from, 30_000, `${svc} healthy again`);
    const action = await restartActionFor(stack.root, node, svc, unhealthy.event.id);
    const beforeFloor = stack.tail.events.length;
    const floor = await measureFloor(stack.docker, lifecycle, ours[i]!, stack.agentPid);
    // Thawed, the agent must find nothing to report (its next scan sees the container running): the floor
    // was the engine's alone, and the hub restarts nothing.
    await sleep(300);
    const after = stack.tail.events.slice(beforeFloor).filter((e) => e.event.service === svc && e.event.type !== 'service_healthy');
    if (after.length > 0) {
      throw new Error(`the agent reported ${svc} (${after.map((e) => e.event.type).join(', ')}) after the floor's kill; the floor was not measured alone`);
    }
    p.ours.detectMs.push(unhealthy.seenAt - dieOurs);
    p.oursRxMs.push(unhealthy.rx - dieOurs);
    p.ours.restoreMs.push(startOurs - dieOurs);
    p.poller.detectMs.push(polled.at - diePoller);
    p.poller.restoreMs.push(startPoller - diePoller);
    p.floorMs.push(floor.toStartEventMs);
    p.floorCallMs.push(floor.callMs);
    p.stages.push(stagesOf(dieOurs, unhealthy.event.ts, unhealthy.rx, action, startOurs));
    p.kills += 1;
    o.log(
      `  ${p.name} kill ${String(p.kills).padStart(2)}: agent detect ${(unhealthy.seenAt - dieOurs).toFixed(0)} ms, restore ${(startOurs - dieOurs).toFixed(0)} ms, floor ${floor.toStartEventMs.toFixed(0)} ms | poller detect ${(polled.at - diePoller).toFixed(0)} ms, restore ${(startPoller - diePoller).toFixed(0)} ms`,
    );
  };

  try {
    for (let i = 0; i < PAIRS; i++) {
      await stack.tail.waitFor((e) => e.event.type === 'service_healthy' && e.event.service === `svc${i}`, 0, 60_000, `svc${i} healthy`);
    }
    o.log(`  ${PAIRS} services healthy at the hub; per phase ${o.kills} kills, each of one agent-watched container, then of its poller-watched twin`);
    for (const name of o.phases) {
      const busy = name === 'loaded' ? startBusyCore() : null;
      if (busy) o.log(`  loaded phase: ${busy.describe}`);
      const p: LatencyPhase = {
        name,
        ...(busy ? { load: busy.describe } : {}),
        loadavg: [os.loadavg()[0]!, 0],
        seconds: 0,
        kills: 0,
        ours: { detectMs: [], restoreMs: [] },
        poller: { detectMs: [], restoreMs: [] },
        oursRxMs: [],
        floorMs: [],
        floorCallMs: [],
        stages: [],
      };
      const t = performance.now();
      try {
        for (let n = 0; n < o.kills; n++) await round(p);
      } finally {
        busy?.stop();
      }
      p.seconds = (performance.now() - t) / 1000;
      p.loadavg[1] = os.loadavg()[0]!;
      summary.phases.push(p);
    }
  } finally {
    stopPoller();
    stopEvents();
    await stack.stop();
  }
  return summary;
}

export { renderLatency } from './agent-latency-report';
export const latencyDir = (artifacts: string) => path.join(artifacts, 'bench-agent-latency');
