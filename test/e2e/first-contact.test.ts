import fs from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ACTION_STATES } from '@homelab/contracts';
import { makeTempDir, sleep, waitFor, type LoggedProcess, type TempDir } from '@homelab/testkit';
import { readJson, startAgentProcess, startHubProcess, writeHosts, type HubProcess } from '../support/stack';

/**
 * An agent's first contact on the real engine, the real hub and the real agent,
 * with every action approved by policy (`autoApprove: guarded`): a fresh agent
 * (empty state directory) joins a running hub; its healthy service, a service
 * whose healthcheck is still in its start period, and a service appended to
 * services.yaml while everything runs are never acted on — no action file ever
 * appears for them, watched from the hub's start to the end — while a container
 * that really stops is restarted (docs/supervisor.md, "First contact").
 */
describe('first contact of a fresh agent with auto-approval on', () => {
  const docker = new Docker({ socketPath: inject('dockerSocket') });
  const image = inject('busyboxImage');
  const steady = `hl-e2e-fc-steady-${process.pid}`;
  const warming = `hl-e2e-fc-warming-${process.pid}`;
  const victim = `hl-e2e-fc-victim-${process.pid}`;
  const late = `hl-e2e-fc-late-${process.pid}`;
  const ALL = [steady, warming, victim, late];
  const HOST = `node: piha
services:
  steady:
    containers: [${steady}]
  warming:
    containers: [${warming}]
  victim:
    containers: [${victim}]
`;
  let tmp: TempDir;
  let hostsDir: string;
  let hub: HubProcess;
  let agent: LoggedProcess;
  /** Every action file name seen in any state folder, polled every 20 ms from before the agent starts. */
  const seen = new Set<string>();
  let watching = true;
  let watcher: Promise<void>;

  const watchActions = async (root: string) => {
    while (watching) {
      for (const state of ACTION_STATES) {
        for (const name of await fs.readdir(path.join(root, 'actions', state)).catch(() => [] as string[]))
          if (name.endsWith('.json')) seen.add(`${state}/${name}`);
      }
      await sleep(20);
    }
  };
  const seenFor = (service: string) => [...seen].filter((f) => f.includes(`-piha-${service}`));
  const world = async () => (await readJson(path.join(hub.root, 'world/services.json')))?.services ?? {};
  const status = async (service: string) => (await world())[`piha/${service}`]?.status as string | undefined;
  const started = async (name: string) => (await docker.getContainer(name).inspect()).State.StartedAt as string;

  beforeAll(async () => {
    tmp = await makeTempDir('hl-e2e-fc-');
    // `late` runs from the start, belonging to no desired service until the test appends it.
    for (const name of ALL) {
      const healthcheck =
        name === warming
          ? // Fails, but inside a 10-minute start period a failure does not count: Docker says "starting" throughout.
            { Healthcheck: { Test: ['CMD', 'false'], Interval: 1e9, Timeout: 1e9, Retries: 1, StartPeriod: 600e9 } }
          : {};
      const c = await docker.createContainer({ name, Image: image, Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: 'none' }, ...healthcheck });
      await c.start();
    }
    hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, { piha: HOST });
    await fs.writeFile(path.join(hostsDir, 'policy.yaml'), 'autoApprove: guarded\n');
    const root = path.join(tmp.path, 'root');
    watcher = watchActions(root);
    hub = await startHubProcess({ root, hostsDir, name: 'first-contact-hub', env: { LOG_LEVEL: 'info', HOMELAB_EXECUTOR_INTERVAL_MS: '500' } });
    agent = await startAgentProcess({
      node: 'piha',
      mqttUrl: hub.mqttUrl,
      dockerSocket: inject('dockerSocket'),
      stateDir: path.join(tmp.path, 'agent-piha'),
      name: 'first-contact-agent',
      hubRoot: hub.root,
    });
  });

  afterAll(async () => {
    watching = false;
    await watcher;
    await agent?.stop();
    await hub?.proc.stop();
    for (const name of ALL)
      await docker
        .getContainer(name)
        .remove({ force: true })
        .catch(() => undefined);
    await tmp?.cleanup();
  });

  it('shows the healthy services healthy and the one in its start period starting, and proposes nothing', async () => {
    const before = { steady: await started(steady), warming: await started(warming) };
    await waitFor(async () => (await status('steady')) === 'healthy' && (await status('victim')) === 'healthy', {
      timeoutMs: 40_000,
      what: 'steady and victim healthy',
    });
    // A few supervisor cycles (1 s each) on the settled world.
    await sleep(3500);
    expect([...seen]).toEqual([]);
    expect(hub.proc.output()).not.toMatch(/proposed action/);
    expect((await docker.getContainer(warming).inspect()).State.Health?.Status).toBe('starting');
    await waitFor(async () => (await status('warming')) === 'starting', { timeoutMs: 10_000, what: 'warming shown as starting' });
    expect({ steady: await started(steady), warming: await started(warming) }).toEqual(before);
  });

  it('does not act on a service appended to services.yaml while its agent has not reported on it', async () => {
    const before = await started(late);
    await fs.appendFile(path.join(hostsDir, 'piha', 'services.yaml'), `  late:\n    containers: [${late}]\n`);
    await waitFor(async () => (await status('late')) === 'healthy', { timeoutMs: 30_000, what: 'late healthy' });
    await sleep(3000);
    expect([...seen]).toEqual([]);
    expect(await started(late)).toBe(before);
  });

  it('restarts a container that really stops, by policy, and still touches nothing else', async () => {
    await docker.getContainer(victim).stop({ t: 0 });
    const done = await waitFor(
      async () => {
        const a = await readJson(path.join(hub.root, 'actions/completed/container-restart-piha-victim.json'));
        return a?.state === 'completed' && a.audit?.at(-1)?.state === 'completed' ? a : null;
      },
      { timeoutMs: 40_000, what: 'the restart of piha/victim completed' },
    );
    expect(done.audit.map((e: any) => [e.state, e.by])).toEqual([
      ['pending', 'supervisor'],
      ['approved', 'policy'],
      ['running', 'executor'],
      ['completed', 'executor'],
    ]);
    expect((await docker.getContainer(victim).inspect()).State.Running).toBe(true);
    await waitFor(async () => (await status('victim')) === 'healthy', { timeoutMs: 30_000, what: 'victim healthy again' });
    await sleep(2000);
    for (const service of ['steady', 'warming', 'late']) expect(seenFor(service), service).toEqual([]);
    expect([...seen].every((f) => f.endsWith('/container-restart-piha-victim.json'))).toBe(true);
  });
});
