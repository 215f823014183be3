import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, makeTempDir, waitFor, type TempDir } from '@homelab/testkit';
import { composeOn, countContainerEvents } from '../support/docker-events';
import { buildImages, composeWith } from '../support/images';
import { ARTIFACTS, bearer, readEvents, readJson as readJsonFile, REPO_ROOT, writeHosts } from '../support/stack';

const run = promisify(execFile);

/**
 * An agent container per node and the hub in its container (docs/deploy.md "What is tested"):
 * the images built from the shipped Dockerfiles (test/e2e/images.test.ts builds them first; run
 * alone, this file builds them), started with the shipped compose files and docker-compose v1,
 * the test's paths and ports given as the files' own settings. Nothing of the project runs
 * outside a container here.
 */
describe('an agent container per node, the hub in its container', () => {
  const socket = inject('dockerSocket');
  const docker = new Docker({ socketPath: socket });
  const busybox = inject('busyboxImage');
  const pid = process.pid;
  const webName = `hl-img-web-${pid}`;
  const stackProject = `hlimgapp${pid}`;
  const NODES = ['piha', 'chelsty-infra'] as const;
  let tmp: TempDir;
  let hubRoot: string;
  let httpUrl: string;
  let viewerToken: string;
  let operatorToken: string;
  let dataRoot: string;
  let stackFile: string;
  let env: Record<string, NodeJS.ProcessEnv>;
  const hub = (...args: string[]) => composeWith(path.join(REPO_ROOT, 'deploy/compose.hub.yml'), 'hlimg-hub', env.hub!, args);
  const agent = (node: string, ...args: string[]) => composeWith(path.join(REPO_ROOT, 'deploy/compose.agent.yml'), `hlimg-${node}`, env[node]!, args);
  const mirror = (...args: string[]) => composeWith(path.join(REPO_ROOT, 'deploy/compose.mirror.yml'), 'hlimg-mirror', env.mirror!, args);
  const stack = (...args: string[]) => composeOn(socket, stackFile, stackProject)(...args);
  const api = (p: string, init: RequestInit = {}) => fetch(`${httpUrl}${p}`, { ...init, headers: bearer(operatorToken, init.body !== undefined) });
  const actionFile = async (id: string) => {
    for (const state of ['pending', 'approved', 'running', 'completed', 'failed', 'rejected', 'cancelled']) {
      const text = await fs.readFile(path.join(hubRoot, 'actions', state, `${id}.json`), 'utf8').catch(() => null);
      if (text) return JSON.parse(text) as { id: string; state: string; result?: { output?: string; error?: string } };
    }
    return null;
  };
  const allActions = async () =>
    (
      await Promise.all(
        ['pending', 'approved', 'running', 'completed', 'failed', 'rejected', 'cancelled'].map((s) => fs.readdir(path.join(hubRoot, 'actions', s))),
      )
    )
      .flat()
      .sort();
  const finished = (id: string) =>
    waitFor(
      async () => {
        const a = await actionFile(id);
        return a && (a.state === 'completed' || a.state === 'failed') ? a : null;
      },
      { timeoutMs: 90_000, what: `${id} finished` },
    );
  const health = async (name: string) => (await docker.getContainer(name).inspect()).State.Health?.Status;

  beforeAll(async () => {
    // The engine's build cache makes this a few seconds after images.test.ts.
    await buildImages(docker, socket, ARTIFACTS);
    tmp = await makeTempDir('hl-img-');
    dataRoot = (await docker.info()).DockerRootDir as string;
    const gid = String((await fs.stat(socket)).gid);
    const root = (name: string) => path.join(tmp.path, name);
    // Each "host" gets its data root from deploy/bootstrap.sh, as an operator would make it.
    for (const name of ['hub', 'mirror', ...NODES])
      await run('bash', [path.join(REPO_ROOT, 'deploy/bootstrap.sh')], { env: { ...process.env, HOMELAB_ROOT: root(name) } });
    hubRoot = root('hub');
    const stacks = path.join(tmp.path, 'stacks');
    stackFile = path.join(stacks, 'app', 'compose.yml');
    await fs.mkdir(path.dirname(stackFile), { recursive: true });
    // Healthy only if ./ready existed when the container started: a redeploy (a new container)
    // is what heals it, never the file alone.
    await fs.writeFile(
      stackFile,
      [
        'version: "2.4"',
        'services:',
        '  app:',
        `    image: ${busybox}`,
        `    command: ["sh", "-c", "cp /stack/ready /tmp/ready 2>/dev/null; trap 'exit 0' TERM; sleep 3600 & wait"]`,
        '    network_mode: none',
        '    volumes: ["./:/stack:ro"]',
        '    healthcheck: { test: ["CMD", "test", "-f", "/tmp/ready"], interval: 1s, retries: 1 }',
        '',
      ].join('\n'),
    );
    const hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, {
      piha: `node: piha\nservices:\n  web:\n    containers: [${webName}]\n`,
      'chelsty-infra': `node: chelsty-infra\nservices:\n  app:\n    containers: [${stackProject}_app_1]\n    compose:\n      file: ${stackFile}\n      project: ${stackProject}\n`,
    });
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    httpUrl = `http://127.0.0.1:${httpPort}`;
    const common = { ...process.env, DOCKER_HOST: `unix://${socket}` };
    env = {
      hub: { ...common, HOMELAB_DATA_DIR: hubRoot, HOMELAB_HOSTS_SRC: hostsDir, HOMELAB_HTTP_PORT: String(httpPort), HOMELAB_MQTT_PORT: String(mqttPort) },
    };
    for (const node of NODES) {
      env[node] = {
        ...common,
        HOMELAB_NODE: node,
        HOMELAB_MQTT_URL: `mqtt://127.0.0.1:${mqttPort}`,
        HOMELAB_DOCKER_GID: gid,
        HOMELAB_DOCKER_SOCKET: socket,
        HOMELAB_AGENT_DIR: path.join(root(node), 'agent'),
        HOMELAB_STACKS_DIR: stacks,
        HOMELAB_DOCKER_DATA_ROOT: dataRoot,
      };
    }

    await (await docker.createContainer({ name: webName, Image: busybox, Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: 'none' } })).start();
    await stack('up', '-d');
    await hub('up', '-d', '--no-build');
    await waitFor(
      () =>
        fs.access(path.join(hubRoot, 'auth/initial-credentials.json')).then(
          () => true,
          () => false,
        ),
      {
        timeoutMs: 60_000,
        what: 'hub credentials',
      },
    );
    ({ viewerToken, operatorToken } = JSON.parse(await fs.readFile(path.join(hubRoot, 'auth/initial-credentials.json'), 'utf8')) as {
      viewerToken: string;
      operatorToken: string;
    });
    for (const node of NODES) {
      // docs/deploy.md: the node's identity from the hub's container, its secret to the agent's host.
      const { stdout } = await hub('exec', '-T', 'hub', 'node', '/app/homelab.mjs', 'nodes', 'add', node);
      const secretFile = path.join(env[node]!.HOMELAB_AGENT_DIR!, `${node}.secret`);
      await fs.writeFile(secretFile, `${stdout.trim()}\n`, { mode: 0o600 });
      await fs.chown(secretFile, 1000, 1000);
      await agent(node, 'up', '-d', '--no-build');
    }
    // The mirror on its own "host", with a viewer token from the hub (docs/deploy.md "Mirror").
    const tokenFile = path.join(root('mirror'), 'mirror.token');
    await fs.writeFile(tokenFile, `${viewerToken}\n`, { mode: 0o600 });
    await fs.chown(tokenFile, 1000, 1000);
    env.mirror = { ...common, HOMELAB_DATA_DIR: root('mirror'), HOMELAB_HUB_URL: httpUrl, HOMELAB_MIRROR_INTERVAL: '1s' };
    await mirror('up', '-d', '--no-build');
    await waitFor(
      async () => {
        const res = await fetch(`${httpUrl}/summary?services=all`, { headers: bearer(viewerToken, false) }).catch(() => null);
        if (!res?.ok) return false;
        const s = (await res.json()) as { services: { node: string; service: string; status: string }[] };
        return s.services.some((v) => v.node === 'piha' && v.service === 'web' && v.status === 'healthy');
      },
      { timeoutMs: 90_000, what: 'piha/web healthy at the hub' },
    );
  }, 20 * 60_000);

  afterAll(async () => {
    await fs.mkdir(ARTIFACTS, { recursive: true });
    for (const [name, container] of [['hub', 'homelab-hub'], ['mirror', 'homelab-mirror'], ...NODES.map((n) => [n, `homelab-agent-${n}`])] as const) {
      const logs = await docker
        .getContainer(container)
        .logs({ stdout: true, stderr: true })
        .catch(() => Buffer.from(''));
      await fs.writeFile(path.join(ARTIFACTS, `images-${name}-container.log`), logs);
    }
    if (env) {
      for (const node of NODES) await agent(node, 'down', '-t', '1').catch(() => undefined);
      if (env.mirror) await mirror('down', '-t', '1').catch(() => undefined);
      await hub('down', '-t', '1').catch(() => undefined);
      await stack('down', '-t', '0').catch(() => undefined);
    }
    await docker
      .getContainer(webName)
      .remove({ force: true })
      .catch(() => undefined);
    await tmp?.cleanup();
  }, 120_000);

  it('restarts a sibling container stopped on the engine once the restart is approved', async () => {
    await docker.getContainer(webName).stop({ t: 0 });
    const id = 'container-restart-piha-web';
    await waitFor(async () => (await actionFile(id))?.state === 'pending', { timeoutMs: 60_000, what: `${id} pending` });
    expect((await api(`/api/actions/${id}/approve`, { method: 'POST', body: JSON.stringify({ by: 'e2e-images' }) })).status).toBe(200);
    const done = await finished(id);
    expect({ state: done.state, error: done.result?.error }).toEqual({ state: 'completed', error: undefined });
    expect((await docker.getContainer(webName).inspect()).State.Running).toBe(true);
  });

  it('redeploys a compose service by running docker-compose in the agent container against the host stack file', async () => {
    const id = 'redeploy-chelsty-infra-app';
    const container = `${stackProject}_app_1`;
    const before = (await docker.getContainer(container).inspect()).Id;
    await waitFor(async () => (await actionFile(id))?.state === 'pending', { timeoutMs: 60_000, what: `${id} pending (app unhealthy)` });
    await fs.writeFile(path.join(path.dirname(stackFile), 'ready'), 'yes\n');
    expect((await api(`/api/actions/${id}/approve`, { method: 'POST', body: JSON.stringify({ by: 'e2e-images' }) })).status).toBe(200);
    const done = await finished(id);
    expect({ state: done.state, error: done.result?.error }).toEqual({ state: 'completed', error: undefined });
    const after = await docker.getContainer(container).inspect();
    expect(after.Id).not.toBe(before);
    // Created by docker-compose v1 from the stack's own file: its relative bind mount resolved to the host's folder.
    expect(after.Config.Labels['com.docker.compose.version']).toBe('1.29.2');
    expect(after.Config.Labels['com.docker.compose.project.config_files']).toBe(stackFile);
    await waitFor(async () => (await health(container)) === 'healthy', { timeoutMs: 30_000, what: 'recreated app healthy' });
  });

  it("reads each node's disk usage on the Docker data-root it mounts", async () => {
    for (const node of NODES) {
      const readings = await waitFor(
        async () => {
          const events = (await readEvents(hubRoot, node)).map((r) => r.event).filter((e) => e.type === 'disk_ok' || e.type === 'disk_pressure');
          return events.some((e) => e.data.mount === dataRoot) ? events : null;
        },
        { timeoutMs: 60_000, what: `${node}: a disk reading of ${dataRoot}` },
      );
      const usage = readings.find((e) => e.data.mount === dataRoot)!.data.usedPercent as number;
      expect(usage).toBeGreaterThan(0);
      const logs = (await docker.getContainer(`homelab-agent-${node}`).logs({ stdout: true, stderr: true })).toString();
      expect(logs).not.toMatch(/ENOENT|Warning: disabling flag/);
    }
  });

  it('takes no action when an agent container restarts', async () => {
    const since = Math.floor(Date.now() / 1000);
    const actionsBefore = await allActions();
    const onlineBefore = (await readEvents(hubRoot, '_hub')).map((r) => r.event).filter((e) => e.type === 'node_online' && e.node === 'piha').length;
    await docker.getContainer('homelab-agent-piha').restart({ t: 10 });
    await waitFor(
      async () => (await readEvents(hubRoot, '_hub')).map((r) => r.event).filter((e) => e.type === 'node_online' && e.node === 'piha').length > onlineBefore,
      {
        timeoutMs: 60_000,
        what: 'piha online again',
      },
    );
    // Two supervisor cycles (5 s each by default) after the agent's new report.
    await new Promise((r) => setTimeout(r, 11_000));
    expect(await allActions()).toEqual(actionsBefore);
    expect(
      await countContainerEvents(docker, since, { event: ['kill', 'stop', 'die', 'restart', 'create'], container: [webName, `${stackProject}_app_1`] }),
    ).toBe(0);
  });

  it("keeps a copy of the hub's world state in the mirror container", async () => {
    const copy = path.join(tmp.path, 'mirror', 'mirror');
    const services = await waitFor(
      async () => {
        const world = await readJsonFile(path.join(copy, 'world', 'services.json'));
        return JSON.stringify(world ?? {}).includes('"web"') ? world : null;
      },
      { timeoutMs: 30_000, what: "the mirror's copy of world/services.json" },
    );
    expect(JSON.stringify(services)).toContain('chelsty-infra');
    expect(await readJsonFile(path.join(copy, 'mirror-status.json'))).toMatchObject({ hub: httpUrl, ok: true });
  });

  it('reports the hub, both agents and the mirror healthy through their healthchecks', async () => {
    for (const name of ['homelab-hub', 'homelab-mirror', ...NODES.map((n) => `homelab-agent-${n}`)]) {
      await waitFor(async () => (await health(name)) === 'healthy', { timeoutMs: 90_000, what: `${name} healthy` });
    }
  });
});
