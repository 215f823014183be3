import fs from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeTempDir, sleep, waitFor, type LoggedProcess, type TempDir } from '@homelab/testkit';
import { readJson, startAgentProcess, startHubProcess, writeHosts, type HubProcess } from '../support/stack';

/**
 * The supervisor (docs/supervisor.md) on the real Docker engine, the real hub and the real agent:
 * - auto-cancel: a container stops → a pending restart (not auto-approved:
 *   the service's policy says none) → the container is started by hand through
 *   the Docker API → the pending action moves to cancelled/ with drift_resolved_auto;
 * - escalation: the fleet policy (hosts/policy.yaml) auto-approves low risk with
 *   a budget of 2 restarts in 10 minutes and no backoff. A container that keeps
 *   being stopped gets two restarts, approved by policy and run by the agent;
 *   the third time a guarded redeploy waits in pending, not auto-approved.
 * - an invalid services.yaml at runtime shows in /summary and the hub's log.
 */
describe('supervisor policy on the real Docker engine', () => {
  const docker = new Docker({ socketPath: inject('dockerSocket') });
  const image = inject('busyboxImage');
  const z2m = `hl-e2e-sup-z2m-${process.pid}`;
  const flaky = `hl-e2e-sup-flaky-${process.pid}`;
  const RESTART_Z2M = 'container-restart-piha-zigbee2mqtt';
  const RESTART_FLAKY = 'container-restart-piha-flaky';
  const REDEPLOY_FLAKY = 'redeploy-piha-flaky';
  const PIHA = `node: piha
services:
  zigbee2mqtt:
    containers: [${z2m}]
    policy: {autoApprove: none}
  flaky:
    containers: [${flaky}]
`;
  let tmp: TempDir;
  let hostsDir: string;
  let hub: HubProcess;
  let agent: LoggedProcess;

  // The store renames into the new folder first and rewrites the content right after (the rename is the claim):
  // a file whose content does not say the folder's state yet is read as not there yet.
  const actionFile = async (state: string, id: string) => {
    const a = await readJson(path.join(hub.root, 'actions', state, `${id}.json`));
    return a?.state === state ? a : null;
  };
  const service = async (name: string) => (await readJson(path.join(hub.root, 'world/services.json')))?.services?.[`piha/${name}`];
  const running = async (name: string) => (await docker.getContainer(name).inspect()).State.Running as boolean;
  const summary = async () => (await (await hub.api('/summary', { token: hub.auth.viewerToken })).json()) as any;

  beforeAll(async () => {
    tmp = await makeTempDir('hl-e2e-sup-');
    for (const name of [z2m, flaky]) {
      const c = await docker.createContainer({ name, Image: image, Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: 'none' } });
      await c.start();
    }
    hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, { piha: PIHA });
    await fs.writeFile(path.join(hostsDir, 'policy.yaml'), "autoApprove: low\nrestartBudget: {max: 2, window: 10m, backoff: '0'}\n");
    hub = await startHubProcess({ root: path.join(tmp.path, 'root'), hostsDir, name: 'supervisor-hub' });
    agent = await startAgentProcess({
      node: 'piha',
      mqttUrl: hub.mqttUrl,
      dockerSocket: inject('dockerSocket'),
      stateDir: path.join(tmp.path, 'agent-piha'),
      name: 'supervisor-agent',
      hubRoot: hub.root,
    });
  });

  afterAll(async () => {
    await agent?.stop();
    await hub?.proc.stop();
    for (const name of [z2m, flaky])
      await docker
        .getContainer(name)
        .remove({ force: true })
        .catch(() => undefined);
    await tmp?.cleanup();
  });

  it('sees both containers as healthy services', async () => {
    for (const name of ['zigbee2mqtt', 'flaky']) {
      await waitFor(async () => (await service(name))?.status === 'healthy', { timeoutMs: 30_000, what: `piha/${name} healthy` });
    }
  });

  it('auto-cancels a pending restart with drift_resolved_auto when the container is started again by hand', async () => {
    await docker.getContainer(z2m).stop({ t: 0 });
    const pending = await waitFor(() => actionFile('pending', RESTART_Z2M), { timeoutMs: 30_000, what: `pending/${RESTART_Z2M}` });
    expect(pending).toMatchObject({ type: 'container_restart', risk: 'low', drift: { type: 'unhealthy_service', reason: 'containers_not_running' } });
    expect(pending.drift.eventIds.length).toBeGreaterThan(0);
    expect(pending.summary).toMatch(/^piha\/zigbee2mqtt: containers not running since \d{4}-\d\d-\d\d \d\d:\d\d UTC \(\d+ events?\)/);
    // The service's own policy (autoApprove: none) beats the fleet's low: it waits for the operator.
    await sleep(2500);
    expect((await actionFile('pending', RESTART_Z2M))?.audit).toHaveLength(1);
    expect(await running(z2m)).toBe(false);

    await docker.getContainer(z2m).start();
    const cancelled = await waitFor(() => actionFile('cancelled', RESTART_Z2M), { timeoutMs: 30_000, what: `cancelled/${RESTART_Z2M}` });
    expect(cancelled).toMatchObject({ state: 'cancelled', cancelReason: 'drift_resolved_auto' });
    expect(cancelled.audit.map((e: any) => [e.state, e.by])).toEqual([
      ['pending', 'supervisor'],
      ['cancelled', 'supervisor'],
    ]);
    expect(await actionFile('pending', RESTART_Z2M)).toBeNull();
  });

  it('restarts a dying container twice by policy, then escalates to a guarded redeploy that waits for approval', async () => {
    let previous: string | undefined;
    for (let round = 1; round <= 2; round += 1) {
      await docker.getContainer(flaky).stop({ t: 0 });
      const done = await waitFor(
        async () => {
          const a = await actionFile('completed', RESTART_FLAKY);
          return a && a.createdAt !== previous ? a : null;
        },
        { timeoutMs: 30_000, what: `restart ${round} of piha/flaky completed` },
      );
      previous = done.createdAt;
      expect(done.audit.map((e: any) => [e.state, e.by, e.via])).toEqual([
        ['pending', 'supervisor', 'supervisor'],
        ['approved', 'policy', 'policy'],
        ['running', 'executor', 'executor'],
        ['completed', 'executor', 'executor'],
      ]);
      expect(done.audit[1].note).toBe('auto-approved: risk low is within autoApprove low (hosts/policy.yaml)');
      expect(done.result).toMatchObject({ status: 'completed', node: 'piha' });
      expect(await running(flaky)).toBe(true);
      await waitFor(async () => (await service('flaky'))?.status === 'healthy', { timeoutMs: 30_000, what: `piha/flaky healthy after restart ${round}` });
    }
    // The first restart was archived when its id was reused; the budget counted it.
    const archives = (await fs.readdir(path.join(hub.root, 'actions/completed'))).filter((f) => f.startsWith(`${RESTART_FLAKY}--`));
    expect(archives).toHaveLength(1);

    await docker.getContainer(flaky).stop({ t: 0 });
    const redeploy = await waitFor(() => actionFile('pending', REDEPLOY_FLAKY), { timeoutMs: 30_000, what: `pending/${REDEPLOY_FLAKY}` });
    expect(redeploy).toMatchObject({
      type: 'redeploy',
      risk: 'guarded',
      state: 'pending',
      drift: { type: 'unhealthy_service', reason: 'containers_not_running' },
      escalation: { from: 'container_restart', restarts: 2, window: '10m' },
    });
    expect(redeploy.summary).toMatch(/^piha\/flaky: containers not running since .*; restart budget spent \(2 restarts in 10m\), so a redeploy is proposed/);
    // Several supervisor cycles later: still pending, never approved, and no third restart ran.
    await sleep(3500);
    const still = await actionFile('pending', REDEPLOY_FLAKY);
    expect(still?.audit).toHaveLength(1);
    expect(await actionFile('approved', REDEPLOY_FLAKY)).toBeNull();
    expect(await actionFile('pending', RESTART_FLAKY)).toBeNull();
    expect((await actionFile('completed', RESTART_FLAKY))?.createdAt).toBe(previous);
    expect(await running(flaky)).toBe(false);
    const s = await summary();
    expect(s.actions.pending.map((a: any) => a.id)).toContain(REDEPLOY_FLAKY);
  });

  it('shows an invalid services.yaml in /summary and the log, keeping the last good desired state', async () => {
    await writeHosts(hostsDir, { piha: PIHA.replace('policy: {autoApprove: none}', 'policy: {autoApprove: always}') });
    const s = await waitFor(
      async () => {
        const got = await summary();
        return got.configProblems.length ? got : null;
      },
      { timeoutMs: 15_000, what: 'configProblems in /summary' },
    );
    expect(s.configProblems).toEqual([
      { file: 'hosts/piha/services.yaml', path: 'services.zigbee2mqtt.policy.autoApprove', message: 'Invalid option: expected one of "none"|"low"|"guarded"' },
    ]);
    await hub.proc.waitForOutput('services.zigbee2mqtt.policy.autoApprove', 10_000);
    expect(hub.proc.output()).toMatch(/invalid desired state; the last good version of each host stays in force/);
    // Last good state in force: nothing was cancelled as removed.
    expect((await actionFile('pending', REDEPLOY_FLAKY))?.state).toBe('pending');
  });
});
