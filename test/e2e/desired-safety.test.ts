import fs from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FsActionStore } from '@homelab/action-store';
import { makeTempDir, startMosquitto, waitFor, type LoggedProcess, type MosquittoHandle, type TempDir } from '@homelab/testkit';
import { pendingAction } from '@homelab/action-store/testing';
import { composeOn, countContainerEvents, maintenanceHost } from '../support/docker-events';
import { homelab, readJson, startAgentProcess, startHubProcess, writeHosts, type HubProcess } from '../support/stack';

/**
 * Desired state that could hurt the node, on the real engine, docker-compose
 * v1, a real agent and hub: a compose file outside the agent's stack roots is
 * refused before anything runs, and a services.yaml that is a symbolic link
 * is refused with a config problem that quotes nothing of the linked file.
 * The node is in a maintenance window, so the only action is the test's own.
 */
describe('desired state that could hurt the node', () => {
  const socket = inject('dockerSocket');
  const docker = new Docker({ socketPath: socket });
  const image = inject('busyboxImage');
  const project = `hlsafe${process.pid}`;
  const appContainer = `${project}_app_1`;
  const actionId = 'redeploy-piha-app';
  const since = Math.floor(Date.now() / 1000) - 1;
  let tmp: TempDir;
  let outsideFile: string;
  let stacks: string;
  let mosquitto: MosquittoHandle;
  let hub: HubProcess;
  let agent: LoggedProcess;
  let root: string;
  let hostsDir: string;
  let store: FsActionStore;

  const compose = (...args: string[]) => composeOn(socket, outsideFile, project)(...args);
  const appId = async () => (await docker.getContainer(appContainer).inspect()).Id;
  /** Containers docker created for the compose project since the test began. */
  const creates = () => countContainerEvents(docker, since, { event: ['create'], label: [`com.docker.compose.project=${project}`] });

  beforeAll(async () => {
    tmp = await makeTempDir('hl-safe-');
    root = path.join(tmp.path, 'root');
    hostsDir = path.join(tmp.path, 'hosts');
    stacks = path.join(tmp.path, 'stacks');
    await fs.mkdir(stacks, { recursive: true });
    // A working compose file, just not under the agent's stack roots.
    outsideFile = path.join(tmp.path, 'elsewhere', 'docker-compose.yml');
    await fs.mkdir(path.dirname(outsideFile), { recursive: true });
    await fs.writeFile(
      outsideFile,
      `version: "2.4"\nservices:\n  app:\n    image: ${image}\n    command: ["sleep", "3600"]\n    network_mode: none\n    stop_grace_period: 1s\n`,
    );
    await compose('up', '-d', 'app');
    await writeHosts(hostsDir, {
      piha: [
        ...maintenanceHost('piha'),
        '  app:',
        `    containers: [${appContainer}]`,
        '    compose:',
        `      file: ${outsideFile}`,
        `      project: ${project}`,
        '',
      ].join('\n'),
    });
    // hosts/linked/services.yaml is a link to a file the hub can read but that is no desired state.
    const secretFile = path.join(tmp.path, 'secret.yaml');
    await fs.writeFile(secretFile, 'node: linked\nservices: {}\napi_token_hl_secret: 1\n');
    await fs.mkdir(path.join(hostsDir, 'linked'));
    await fs.symlink(secretFile, path.join(hostsDir, 'linked', 'services.yaml'));

    store = new FsActionStore({ root });
    await store.init();
    mosquitto = await startMosquitto();
    hub = await startHubProcess({ root, hostsDir, name: 'safe-hub', mqttUrl: mosquitto.url, env: { HOMELAB_EXECUTOR_INTERVAL_MS: '500' } });
    agent = await startAgentProcess({
      node: 'piha',
      mqttUrl: mosquitto.url,
      dockerSocket: socket,
      stateDir: path.join(tmp.path, 'agent-piha'),
      name: 'safe-agent',
      stackRoots: [stacks],
    });
    await waitFor(async () => (await readJson(path.join(root, 'world/services.json')))?.services?.['piha/app']?.status === 'healthy', {
      timeoutMs: 40_000,
      what: 'piha/app healthy in world',
    });
  });

  afterAll(async () => {
    await agent?.stop();
    await hub?.proc.stop();
    await mosquitto?.stop();
    if (outsideFile) await compose('down', '-t', '0').catch(() => undefined);
    await tmp?.cleanup();
  });

  it('fails a redeploy whose compose file is outside the stack roots, saying why, and runs nothing', async () => {
    const idBefore = await appId();
    const createsBefore = await creates();
    const now = new Date().toISOString();
    expect(await store.create(pendingAction(actionId, { type: 'redeploy', risk: 'guarded', service: 'app', createdAt: now, updatedAt: now }))).toBe('created');
    const res = await hub.api(`/api/actions/${actionId}/approve`, { method: 'POST', body: JSON.stringify({ by: 'e2e' }) });
    expect(res.status).toBe(200);
    const done = await waitFor(
      async () => {
        const a = await store.get(actionId);
        return a && (a.state === 'failed' || a.state === 'completed') && a.audit.at(-1)?.state === a.state ? a : null;
      },
      { timeoutMs: 40_000, what: `${actionId} finished` },
    );
    expect(done.state).toBe('failed');
    expect(done.result?.error).toEqual({
      code: 'compose_file_refused',
      message: `compose file ${outsideFile} is outside the agent's stack roots (allowed: ${stacks}; set HOMELAB_STACK_ROOTS on the agent to change it)`,
    });
    expect(done.result?.output).toBe('');
    expect(await appId()).toBe(idBefore);
    expect(await creates()).toBe(createsBefore);
  });

  it('refuses a services.yaml that is a symbolic link with a config problem, quoting nothing of the linked file', async () => {
    const expected = {
      file: 'hosts/linked/services.yaml',
      path: '',
      message: 'the file is a symbolic link; links are not followed, put the real file in the hosts folder',
    };
    const summary = await waitFor(
      async () => {
        const r = await hub.api('/summary', { token: hub.auth.viewerToken });
        const body = (await r.json()) as { configProblems: unknown[] };
        return body.configProblems.length > 0 ? body : null;
      },
      { timeoutMs: 20_000, what: 'a config problem in /summary' },
    );
    expect(summary.configProblems).toEqual([expected]);
    expect(JSON.stringify(summary)).not.toContain('api_token_hl_secret');
    const validate = homelab(['validate', '--hosts', hostsDir], { name: 'safe-validate', env: { LOG_LEVEL: 'warn' } });
    expect(await validate.exited).toBe(1);
    expect(validate.output()).toContain('hosts/linked/services.yaml: the file is a symbolic link');
    expect(validate.output()).not.toContain('api_token_hl_secret');
  });
});
