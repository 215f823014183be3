import path from 'node:path';
import type Docker from 'dockerode';
import { percentile, sleep, startAgentStack, watchContainerEvents } from './agent-stack';

/**
 * `npm run bench -- latency`: a container's death → `service_unhealthy` in the
 * hub's log, and → the container running again (auto-approved low-risk
 * restart: agent → hub → supervisor → executor → agent → Docker), against a
 * docker-autoheal style poller of the Docker API every 5 s on twin
 * containers killed at the same moment, in the same run.
 */
export interface LatencyOptions {
  kills: number;
  pollerMs: number;
  dir: string;
  log: (s: string) => void;
}

export interface Side {
  detectMs: number[];
  restoreMs: number[];
}

export interface LatencySummary {
  kills: number;
  pollerMs: number;
  ours: Side;
  poller: Side;
  /** Detection measured to the hub's receive time (`rx`) instead of the bench seeing the fsynced line. */
  oursRxMs: number[];
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
  const lifecycle: Array<{ name: string; action: string; atMs: number }> = [];
  const stopEvents = await watchContainerEvents(stack.docker, (e) => lifecycle.push(e));
  const detected: Array<{ name: string; at: number }> = [];
  const stopPoller = startPoller(stack.docker, new Set(twins), o.pollerMs, (name, at) => detected.push({ name, at }));
  const summary: LatencySummary = {
    kills: 0,
    pollerMs: o.pollerMs,
    ours: { detectMs: [], restoreMs: [] },
    poller: { detectMs: [], restoreMs: [] },
    oursRxMs: [],
  };
  const lifecycleEvent = async (name: string, action: string, afterMs: number, what: string) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const e = lifecycle.find((x) => x.name === name && x.action === action && x.atMs >= afterMs);
      if (e) return e.atMs;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(5);
    }
  };
  try {
    for (let i = 0; i < PAIRS; i++) {
      await stack.tail.waitFor((e) => e.event.type === 'service_healthy' && e.event.service === `svc${i}`, 0, 60_000, `svc${i} healthy`);
    }
    o.log(`  ${PAIRS} services healthy at the hub; ${o.kills} kills, each of one agent-watched container and its poller-watched twin at once`);
    for (let k = 0; k < o.kills; k++) {
      const i = k % PAIRS;
      // A random phase against the poller's period, and time for the previous round to settle.
      await sleep(500 + Math.random() * o.pollerMs);
      const from = stack.tail.events.length;
      const t0 = Date.now() - 1;
      await Promise.all([stack.docker.getContainer(ours[i]!).kill(), stack.docker.getContainer(twins[i]!).kill()]);
      const [dieOurs, diePoller] = await Promise.all([lifecycleEvent(ours[i]!, 'die', t0, 'die'), lifecycleEvent(twins[i]!, 'die', t0, 'die (twin)')]);
      const unhealthy = await stack.tail.waitFor(
        (e) => e.event.type === 'service_unhealthy' && e.event.service === `svc${i}`,
        from,
        30_000,
        `svc${i} unhealthy`,
      );
      const [startOurs, startPoller] = await Promise.all([
        lifecycleEvent(ours[i]!, 'start', dieOurs, 'start after the restart'),
        lifecycleEvent(twins[i]!, 'start', diePoller, 'start of the twin'),
      ]);
      const polled = detected.find((d) => d.name === twins[i] && d.at >= t0)!;
      await stack.tail.waitFor((e) => e.event.type === 'service_healthy' && e.event.service === `svc${i}`, from, 30_000, `svc${i} healthy again`);
      summary.ours.detectMs.push(unhealthy.seenAt - dieOurs);
      summary.oursRxMs.push(unhealthy.rx - dieOurs);
      summary.ours.restoreMs.push(startOurs - dieOurs);
      summary.poller.detectMs.push(polled.at - diePoller);
      summary.poller.restoreMs.push(startPoller - diePoller);
      summary.kills += 1;
      o.log(
        `  kill ${String(k + 1).padStart(2)}: agent detect ${(unhealthy.seenAt - dieOurs).toFixed(0)} ms, restore ${(startOurs - dieOurs).toFixed(0)} ms | poller detect ${(polled.at - diePoller).toFixed(0)} ms, restore ${(startPoller - diePoller).toFixed(0)} ms`,
      );
    }
  } finally {
    stopPoller();
    stopEvents();
    await stack.stop();
  }
  return summary;
}

const f = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '–');
const row = (label: string, xs: number[]) => `| ${label} | ${f(percentile(xs, 50))} | ${f(percentile(xs, 95))} | ${f(Math.max(...xs))} |`;

export function renderLatency(s: LatencySummary, meta: { date: Date; machine: string; seconds: number; load: [number, number]; command: string }): string {
  return [
    `Measured ${meta.date.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${meta.machine}; ${s.kills} kills in ${meta.seconds.toFixed(0)} s, load ${meta.load[0].toFixed(2)} → ${meta.load[1].toFixed(2)}. Reproduce: \`${meta.command}\`.`,
    '',
    '| ms after the container died (engine `die` time) | p50 | p95 | max |',
    '| --- | ---: | ---: | ---: |',
    row("**agent**: `service_unhealthy` in the hub's log (fsynced, seen by a 5 ms poll)", s.ours.detectMs),
    row('agent: … received by the hub (`rx`)', s.oursRxMs),
    row('**agent + hub**: running again (auto-approved `container_restart`)', s.ours.restoreMs),
    row(`poller every ${s.pollerMs / 1000} s (docker-autoheal's design): noticed`, s.poller.detectMs),
    row('poller: running again (its own `docker restart`)', s.poller.restoreMs),
    '',
    `Goals: p95 detection ≤ 200 ms, p95 restore ≤ 2 s (the containers are \`sleep\`, so the app's own start is ~0).`,
  ].join('\n');
}

export const latencyDir = (artifacts: string) => path.join(artifacts, 'bench-agent-latency');
