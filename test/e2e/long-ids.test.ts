import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeTempDir, waitFor, type LoggedProcess, type TempDir } from '@homelab/testkit';
import { homelab, readJson, startAgentProcess, startHubProcess, writeHosts, type HubProcess } from '../support/stack';

/** The longest names the contracts allow (63 characters each). */
const NODE = `n${'o'.repeat(60)}-1`;
const SERVICE = `s${'e'.repeat(60)}-1`;
const ACTION = `container-restart-${NODE}-${SERVICE}`;

/** Runs `homelab …` to completion against the hub. */
async function cli(args: string[], env: NodeJS.ProcessEnv) {
  const proc = homelab(args, { name: `long-ids-cli-${args[1]}`, env: { LOG_LEVEL: 'warn', ...env } });
  const code = await proc.exited;
  return { code, out: proc.output() };
}

/**
 * An action id of 145 characters (a restart of a 63-character service on a
 * 63-character node) on a real hub, agent and Docker engine: shown by the
 * API, the page and the CLI, approved with the CLI, and carried out.
 */
describe('actions of the longest node and service names', () => {
  const docker = new Docker({ socketPath: inject('dockerSocket') });
  const containerName = `hl-e2e-long-${process.pid}`;
  let tmp: TempDir;
  let hub: HubProcess;
  let agent: LoggedProcess;
  const env = () => ({ HOMELAB_HUB_URL: hub.httpUrl, HOMELAB_TOKEN: hub.auth.operatorToken });

  beforeAll(async () => {
    expect(NODE).toHaveLength(63);
    expect(SERVICE).toHaveLength(63);
    expect(ACTION).toHaveLength(145);
    tmp = await makeTempDir('hl-e2e-long-');
    const container = await docker.createContainer({
      name: containerName,
      Image: inject('busyboxImage'),
      Cmd: ['sleep', '3600'],
      HostConfig: { NetworkMode: 'none' },
    });
    await container.start();
    const hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, { [NODE]: `node: ${NODE}\nservices:\n  ${SERVICE}:\n    containers: [${containerName}]\n` });
    hub = await startHubProcess({ root: path.join(tmp.path, 'root'), hostsDir, name: 'long-ids-hub' });
    agent = await startAgentProcess({
      node: NODE,
      mqttUrl: hub.mqttUrl,
      dockerSocket: inject('dockerSocket'),
      stateDir: path.join(tmp.path, 'agent'),
      name: 'long-ids-agent',
      hubRoot: hub.root,
    });
  });

  afterAll(async () => {
    await agent?.stop();
    await hub?.proc.stop();
    await docker
      .getContainer(containerName)
      .remove({ force: true })
      .catch(() => undefined);
    await tmp?.cleanup();
  });

  it('proposes the restart when the container stops, and shows it in the API, the page and the CLI', async () => {
    const service = async () => (await readJson(path.join(hub.root, 'world/services.json')))?.services?.[`${NODE}/${SERVICE}`];
    await waitFor(async () => (await service())?.status === 'healthy', { timeoutMs: 30_000, what: 'the service healthy' });
    await docker.getContainer(containerName).stop({ t: 0 });
    await waitFor(() => readJson(path.join(hub.root, 'actions/pending', `${ACTION}.json`)), { timeoutMs: 30_000, what: `actions/pending/${ACTION}.json` });

    const api = await hub.api(`/api/actions/${ACTION}`);
    expect(api.status).toBe(200);
    expect(await api.json()).toMatchObject({ id: ACTION, node: NODE, service: SERVICE, state: 'pending' });

    const page = await hub.api('/actions', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(ACTION);
    expect(html).toContain(`/api/actions/${ACTION}/approve`);

    const shown = await cli(['actions', 'show', ACTION], env());
    expect(shown.code, shown.out).toBe(0);
    expect(JSON.parse(shown.out.slice(shown.out.indexOf('{')))).toMatchObject({ id: ACTION, state: 'pending' });
  });

  it('approves it with the CLI and the agent restarts the container', async () => {
    const approved = await cli(['actions', 'approve', ACTION, '--by', 'e2e-operator'], env());
    expect(approved.code, approved.out).toBe(0);
    expect(approved.out).toContain(`${ACTION}: approved`);
    const file = path.join(hub.root, 'actions/completed', `${ACTION}.json`);
    const done = await waitFor(async () => ((await readJson(file))?.state === 'completed' ? readJson(file) : null), {
      timeoutMs: 60_000,
      what: `actions/completed/${ACTION}.json`,
    });
    expect(done.result).toMatchObject({ actionId: ACTION, node: NODE, status: 'completed' });
    expect(done.audit.map((a: { state: string }) => a.state)).toEqual(['pending', 'approved', 'running', 'completed']);
    expect((await docker.getContainer(containerName).inspect()).State.Running).toBe(true);
    const after = await hub.api(`/api/actions/${ACTION}`);
    expect(after.status).toBe(200);
    expect(((await after.json()) as { state: string }).state).toBe('completed');
  });
});
