import { spawnLogged } from '@homelab/testkit';
import { cpuMsOf, median } from './procs';
import { privateMbOf, rssMbOf, sleep, startAgentStack } from './agent-stack';

/**
 * `npm run bench -- footprint`: the agent, started as from a checkout
 * (`homelab agent`, which runs the agent-only bundle with the image's flags),
 * watching 50 containers of 50 services: RSS and CPU while idle, next to a
 * bare `node -e "setInterval(()=>{},1000)"` sampled the same way at the same
 * time (the baseline of the ratio), then over a soak with container churn —
 * one of the 50 killed every `churnMs` (restored by the auto-approved restart,
 * through the whole stack), and an unmanaged container created and removed now
 * and then (inventory).
 */
export interface FootprintOptions {
  containers: number;
  idleMs: number;
  soakMs: number;
  churnMs: number;
  dir: string;
  log: (s: string) => void;
}

/** RSS and private memory medians of one process over a phase. */
export interface MemoryOf {
  rssMb: number;
  privateMb: number;
}

export interface FootprintSummary {
  containers: number;
  /** The agent's node command line after the node binary (flags, bundle, `agent`). */
  agentCommand: string;
  idle: {
    seconds: number;
    rssMb: { median: number; max: number };
    privateMb: number;
    cpuPercent: number;
    /** Bare `node -e "setInterval(()=>{},1000)"`, sampled alongside. */
    bareNode: MemoryOf & { cpuPercent: number };
    /** The `homelab agent` process in front of the agent (Node without process.execve), or null. */
    launcher: MemoryOf | null;
    /** Agent RSS median / bare node RSS median. */
    ratio: number;
  };
  soak: {
    seconds: number;
    kills: number;
    rssMb: { firstMinuteMedian: number; lastMinuteMedian: number; max: number; slopeMbPerHour: number };
    privateMb: { first: number; last: number };
    cpuPercent: number;
    heapSamples: number;
  };
}

/** Least-squares slope of (t, y), per hour of t (ms). */
function slopePerHour(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mt = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  let num = 0;
  let den = 0;
  for (const [t, y] of points) {
    num += (t - mt) * (y - my);
    den += (t - mt) ** 2;
  }
  return den > 0 ? (num / den) * 3_600_000 : 0;
}

export async function benchFootprint(o: FootprintOptions): Promise<FootprintSummary> {
  const node = 'bench';
  const names = Array.from({ length: o.containers }, (_, i) => `fp-${String(i).padStart(2, '0')}`);
  const yaml = [
    `node: ${node}`,
    "policy: {autoApprove: low, restartBudget: {max: 100, window: 1m, backoff: '0'}}",
    'services:',
    ...names.map((c) => `  ${c}:\n    containers: [${c}]`),
    '',
  ].join('\n');
  o.log(`  creating ${o.containers} containers…`);
  const stack = await startAgentStack({ dir: o.dir, node, servicesYaml: yaml, containers: names, log: o.log });
  const pid = stack.agentPid;
  const launcher = stack.launcherPid;
  try {
    for (const n of names) await stack.tail.waitFor((e) => e.event.type === 'service_healthy' && e.event.service === n, 0, 120_000, `${n} healthy`);
    o.log(`  ${o.containers} services healthy at the hub; settling 15 s`);
    await sleep(15_000);

    // Idle: nothing happens but the agent's own scans, heartbeats and disk checks. The bare node
    // starts now, sampled in the same loop: the same machine state for both.
    const bare = spawnLogged(process.execPath, ['-e', 'setInterval(()=>{},1000)'], { maxBufferBytes: 4096 });
    await sleep(2000);
    const idleRss: number[] = [];
    const idlePrivate: number[] = [];
    const bareRss: number[] = [];
    const barePrivate: number[] = [];
    const launcherRss: number[] = [];
    const launcherPrivate: number[] = [];
    const cpu0 = await cpuMsOf(pid);
    const bareCpu0 = await cpuMsOf(bare.pid);
    const t0 = Date.now();
    while (Date.now() - t0 < o.idleMs) {
      idleRss.push(await rssMbOf(pid));
      idlePrivate.push(await privateMbOf(pid));
      bareRss.push(await rssMbOf(bare.pid));
      barePrivate.push(await privateMbOf(bare.pid));
      if (launcher) {
        launcherRss.push(await rssMbOf(launcher));
        launcherPrivate.push(await privateMbOf(launcher));
      }
      await sleep(1000);
    }
    const idleCpu = (((await cpuMsOf(pid)) - cpu0) / (Date.now() - t0)) * 100;
    const bareCpu = (((await cpuMsOf(bare.pid)) - bareCpu0) / (Date.now() - t0)) * 100;
    await bare.stop();
    const ratio = median(idleRss) / median(bareRss);
    o.log(
      `  idle ${(o.idleMs / 1000).toFixed(0)} s: RSS median ${median(idleRss).toFixed(1)} MB (max ${Math.max(...idleRss).toFixed(1)}) = ${ratio.toFixed(2)}× bare node's ${median(bareRss).toFixed(1)} MB, CPU ${idleCpu.toFixed(2)} % of one core`,
    );

    // Soak with churn.
    const samples: Array<[number, number]> = [];
    const privates: number[] = [];
    const cpu1 = await cpuMsOf(pid);
    const s0 = Date.now();
    let kills = 0;
    let strays = 0;
    let nextSample = s0;
    let nextReport = s0 + 60_000;
    while (Date.now() - s0 < o.soakMs) {
      const victim = names[Math.floor(Math.random() * names.length)]!;
      const info = await stack.docker.getContainer(victim).inspect();
      if (info.State.Running) {
        await stack.docker
          .getContainer(victim)
          .kill()
          .catch(() => undefined);
        kills += 1;
      }
      if (kills % 10 === 0) {
        const stray = `fp-stray-${strays++}`;
        const c = await stack.docker.createContainer({
          name: stray,
          Image: stack.image,
          Cmd: ['sleep', '5'],
          HostConfig: { NetworkMode: 'none', AutoRemove: true },
        });
        await c.start();
      }
      const until = Date.now() + o.churnMs;
      while (Date.now() < until) {
        if (Date.now() >= nextSample) {
          samples.push([Date.now() - s0, await rssMbOf(pid)]);
          privates.push(await privateMbOf(pid));
          nextSample += 5_000;
        }
        if (Date.now() >= nextReport) {
          o.log(`  soak ${((Date.now() - s0) / 60_000).toFixed(0)} min: ${kills} kills, RSS ${samples.at(-1)![1].toFixed(1)} MB`);
          nextReport += 60_000;
        }
        await sleep(250);
      }
    }
    const soakSec = (Date.now() - s0) / 1000;
    const soakCpu = (((await cpuMsOf(pid)) - cpu1) / (soakSec * 1000)) * 100;
    const first = samples.filter(([t]) => t < 60_000).map(([, y]) => y);
    const last = samples.filter(([t]) => t >= soakSec * 1000 - 60_000).map(([, y]) => y);
    return {
      containers: o.containers,
      agentCommand: stack.agentCommand,
      idle: {
        seconds: o.idleMs / 1000,
        rssMb: { median: median(idleRss), max: Math.max(...idleRss) },
        privateMb: median(idlePrivate),
        cpuPercent: idleCpu,
        bareNode: { rssMb: median(bareRss), privateMb: median(barePrivate), cpuPercent: bareCpu },
        launcher: launcher ? { rssMb: median(launcherRss), privateMb: median(launcherPrivate) } : null,
        ratio,
      },
      soak: {
        seconds: soakSec,
        kills,
        rssMb: {
          firstMinuteMedian: median(first),
          lastMinuteMedian: median(last),
          max: Math.max(...samples.map(([, y]) => y)),
          slopeMbPerHour: slopePerHour(samples),
        },
        privateMb: { first: median(privates.slice(0, 12)), last: median(privates.slice(-12)) },
        cpuPercent: soakCpu,
        heapSamples: samples.length,
      },
    };
  } finally {
    await stack.stop();
  }
}

export function renderFootprint(s: FootprintSummary, meta: { date: Date; machine: string; load: [number, number]; command: string }): string {
  const mb = (n: number) => n.toFixed(1);
  const slope = `${s.soak.rssMb.slopeMbPerHour >= 0 ? '+' : ''}${s.soak.rssMb.slopeMbPerHour.toFixed(1)} MB/h over ${s.soak.heapSamples} samples`;
  return [
    `Measured ${meta.date.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${meta.machine}; load ${meta.load[0].toFixed(2)} → ${meta.load[1].toFixed(2)}. Reproduce: \`${meta.command}\`.`,
    '',
    `The agent started as from a checkout, \`homelab agent\` (\`node ${s.agentCommand}\`, Node ${process.versions.node}), watching ${s.containers} containers of ${s.containers} services, default settings (scan every 10 s, heartbeat 30 s, disk check 30 s), reporting to a real hub through Mosquitto.`,
    '',
    '| phase | RSS | CPU (% of one core) |',
    '| --- | --- | ---: |',
    `| idle, ${s.idle.seconds.toFixed(0)} s: bare \`node -e "setInterval(()=>{},1000)"\`, same run | median ${mb(s.idle.bareNode.rssMb)} MB (private ${mb(s.idle.bareNode.privateMb)} MB) | ${s.idle.bareNode.cpuPercent.toFixed(2)} |`,
    `| idle, ${s.idle.seconds.toFixed(0)} s: **agent** | median ${mb(s.idle.rssMb.median)} MB, max ${mb(s.idle.rssMb.max)} MB (private ${mb(s.idle.privateMb)} MB): **${s.idle.ratio.toFixed(2)}× bare node** | ${s.idle.cpuPercent.toFixed(2)} |`,
    ...(s.idle.launcher
      ? [
          `| idle: the \`homelab agent\` process in front of the agent (this Node has no process.execve) | median ${mb(s.idle.launcher.rssMb)} MB (private ${mb(s.idle.launcher.privateMb)} MB) | |`,
        ]
      : []),
    `| soak, ${(s.soak.seconds / 60).toFixed(1)} min, ${s.soak.kills} kills (each restored through the hub) + unmanaged containers coming and going | first minute ${mb(s.soak.rssMb.firstMinuteMedian)} MB → last minute ${mb(s.soak.rssMb.lastMinuteMedian)} MB (max ${mb(s.soak.rssMb.max)}; trend ${slope}; private ${mb(s.soak.privateMb.first)} → ${mb(s.soak.privateMb.last)} MB) | ${s.soak.cpuPercent.toFixed(2)} |`,
    '',
    '"private" is Private_Dirty of /proc/<pid>/smaps_rollup: what the process itself holds (heap, buffers); the rest of the RSS is mostly the node binary\'s mapped code, shared with every other node process on the host.',
    '',
    `Goals: idle RSS ≤ 1.3× bare node (here ${s.idle.ratio.toFixed(2)}×), idle CPU ≤ 0.5 % of one core (here ${s.idle.cpuPercent.toFixed(2)} %), no growth over the soak (here ${slope}).`,
  ].join('\n');
}
