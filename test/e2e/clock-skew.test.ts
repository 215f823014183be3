import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeTempDir, waitFor, type LoggedProcess, type TempDir } from '@homelab/testkit';
import { faketimeEnv, observedShiftMs } from '../support/faketime';
import { agentMqttEnv } from '../support/mqtt-identities';
import { homelab, readEvents, readJson, startHubProcess, writeHosts, type HubProcess } from '../support/stack';

const H = 3_600_000;
/** Transit, group commit and the observer's run: how far the measured offset may be from the shift. */
const SLACK_MS = 5_000;

/**
 * A real `homelab agent` whose wall clock is shifted with libfaketime against a
 * real hub (embedded broker) and the real Docker engine: the hub measures the
 * offset and shows it, dates a container's stop in its own time, and an
 * approved restart runs (the agent judges the deadline in the hub's time).
 */
describe.each([
  { offset: '+5h', aheadMs: 5 * H, way: 'ahead of' },
  { offset: '-5h', aheadMs: -5 * H, way: 'behind' },
])('an agent whose clock is $offset off the hub', ({ offset, aheadMs, way }) => {
  const docker = new Docker({ socketPath: inject('dockerSocket') });
  const slug = aheadMs > 0 ? 'ahead' : 'behind';
  const containerName = `hl-e2e-skew-${slug}-${process.pid}`;
  const actionId = 'container-restart-piha-zigbee2mqtt';
  let tmp: TempDir;
  let hub: HubProcess;
  let agent: LoggedProcess;

  beforeAll(async () => {
    tmp = await makeTempDir('hl-e2e-skew-');
    const container = await docker.createContainer({
      name: containerName,
      Image: inject('busyboxImage'),
      Cmd: ['sleep', '3600'],
      HostConfig: { NetworkMode: 'none' },
    });
    await container.start();
    const hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, { piha: `node: piha\nservices:\n  zigbee2mqtt:\n    containers: [${containerName}]\n` });
    hub = await startHubProcess({ root: path.join(tmp.path, 'root'), hostsDir, name: `clock-skew-${slug}-hub` });
    agent = await startAgent(`clock-skew-${slug}-agent`, faketimeEnv(offset));
  });

  /** The real agent; node heartbeats every second, so the hub gets a clock sample in every window. */
  const startAgent = async (name: string, env: NodeJS.ProcessEnv) => {
    const args = [
      'agent',
      '--node',
      'piha',
      '--mqtt-url',
      hub.mqttUrl,
      '--docker-socket',
      inject('dockerSocket'),
      '--state-dir',
      path.join(tmp.path, 'agent-piha'),
    ];
    return homelab(args, { name, env: { ...(await agentMqttEnv(hub.root, 'piha')), HOMELAB_HEARTBEAT_MS: '1000', ...env } });
  };
  const summary = async () => (await (await hub.api('/summary', { token: hub.auth.viewerToken })).json()) as any;

  afterAll(async () => {
    await agent?.stop();
    await hub?.proc.stop();
    await docker
      .getContainer(containerName)
      .remove({ force: true })
      .catch(() => undefined);
    await tmp?.cleanup();
  });

  const worldService = async () => (await readJson(path.join(hub.root, 'world/services.json')))?.services?.['piha/zigbee2mqtt'];

  it('runs the agent with the shifted clock: `date` under the same preload, and the stamps of its events', async () => {
    expect(Math.abs((await observedShiftMs(faketimeEnv(offset))) - aheadMs)).toBeLessThan(SLACK_MS);
    await waitFor(async () => (await worldService())?.status === 'healthy', { timeoutMs: 60_000, what: 'piha/zigbee2mqtt healthy in world/services.json' });
    const [first] = await readEvents(hub.root, 'piha');
    expect(Math.abs(Date.parse(first.event.ts) - Date.parse(first.rx) - aheadMs)).toBeLessThan(SLACK_MS);
  });

  it('keeps the measured offset in world/nodes.json and shows a clock_skew finding in /summary and the UI', async () => {
    const clock = await waitFor(async () => (await readJson(path.join(hub.root, 'world/nodes.json')))?.nodes?.piha?.clocks?.piha, {
      timeoutMs: 10_000,
      what: 'piha clock in world/nodes.json',
    });
    expect(Math.abs(clock.offsetMs - aheadMs)).toBeLessThan(SLACK_MS);
    const finding = await waitFor(async () => (await summary()).findings.find((f: { kind: string }) => f.kind === 'clock_skew'), {
      timeoutMs: 10_000,
      what: 'a clock_skew finding in /summary',
    });
    expect(finding).toMatchObject({ node: 'piha' });
    expect(finding.message).toMatch(new RegExp(`^piha: its clock is [45] h \\d+ min ${way} the hub's`));
    const overview = await (await hub.api('/', { token: hub.auth.viewerToken })).text();
    expect(overview).toContain(`${way} the hub&#39;s`);
    const nodePage = await (await hub.api('/nodes/piha', { token: hub.auth.viewerToken })).text();
    expect(nodePage).toMatch(new RegExp(`<b>[45] h \\d+ min ${way} the hub</b>`));
  });

  it("dates a container's stop in the hub's time, not hours off", async () => {
    const stoppedAt = Date.now();
    await docker.getContainer(containerName).stop({ t: 0 });
    const svc = await waitFor(async () => ((await worldService())?.status === 'unhealthy' ? await worldService() : null), {
      timeoutMs: 30_000,
      what: 'piha/zigbee2mqtt unhealthy',
    });
    const since = Date.parse(svc.since);
    expect(since).toBeGreaterThanOrEqual(stoppedAt - 1000);
    expect(since).toBeLessThanOrEqual(Date.now());
  });

  it('restarts the container when the operator approves: the agent judges the deadline in hub time', async () => {
    await waitFor(() => readJson(path.join(hub.root, 'actions/pending', `${actionId}.json`)), { timeoutMs: 30_000, what: `actions/pending/${actionId}.json` });
    const res = await hub.api(`/api/actions/${actionId}/approve`, { method: 'POST', body: JSON.stringify({ by: 'e2e-operator' }) });
    expect(res.status).toBe(200);
    const ended = await waitFor(
      async () => {
        for (const state of ['completed', 'failed']) {
          const a = await readJson(path.join(hub.root, `actions/${state}`, `${actionId}.json`));
          if (a?.state === state && a.result) return a;
        }
        return null;
      },
      { timeoutMs: 60_000, what: `${actionId} completed or failed` },
    );
    expect(ended.result.error?.code).toBeUndefined();
    expect(ended).toMatchObject({ state: 'completed', result: { status: 'completed' } });
    expect((await docker.getContainer(containerName).inspect()).State.Running).toBe(true);
  });

  it('clears the finding once the agent runs with a fixed clock (restarted without the shift)', async () => {
    await agent.stop();
    agent = await startAgent(`clock-skew-${slug}-agent-fixed`, {});
    // The windows from before the fix age out after CLOCK_WINDOWS windows (15 s each) with events.
    await waitFor(async () => !(await summary()).findings.some((f: { kind: string }) => f.kind === 'clock_skew'), {
      timeoutMs: 100_000,
      intervalMs: 1000,
      what: 'the clock_skew finding gone',
    });
    const node = (await summary()).nodes.find((n: { node: string }) => n.node === 'piha');
    expect(Math.abs(node.clocks.piha.offsetMs)).toBeLessThan(SLACK_MS);
  }, 120_000);
});
