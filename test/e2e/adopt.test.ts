import fs from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AdoptDraftView } from '@homelab/contracts';
import { makeTempDir, waitFor, type LoggedProcess, type TempDir } from '@homelab/testkit';
import { composeOn } from '../support/docker-events';
import { homelab, startAgentProcess, startHubProcess, type HubProcess } from '../support/stack';

/**
 * `homelab adopt` on the real engine (docs/services-yaml.md, "Adopting what
 * runs"): a node with no services.yaml runs a compose v1 project (one service
 * with a healthcheck, one without), a standalone container and one labelled
 * `homelab.adopt=false`. The agent reports them, the CLI shows the draft
 * without writing, `--write` writes it through the API, and the hub then
 * watches the adopted services: they turn healthy in the world.
 */
describe('adopting what runs on a node without services.yaml', () => {
  const socket = inject('dockerSocket');
  const docker = new Docker({ socketPath: socket });
  const image = inject('busyboxImage');
  const project = `hladopt${process.pid}`;
  const solo = `hl-e2e-adopt-solo-${process.pid}`;
  const optOut = `hl-e2e-adopt-optout-${process.pid}`;
  let tmp: TempDir;
  let composeFile: string;
  let hostsDir: string;
  let hub: HubProcess;
  let agent: LoggedProcess;

  const compose = (...args: string[]) => composeOn(socket, composeFile, project)(...args);
  const cli = async (args: string[], token: string, name: string) => {
    const p = homelab(['adopt', '--node', 'piha', '--hub', hub.httpUrl, '--token', token, ...args], { name, env: { LOG_LEVEL: 'warn' } });
    return { code: await p.exited, out: p.output() };
  };
  const draft = async () => AdoptDraftView.parse(await (await hub.api('/api/nodes/piha/adopt', { token: hub.auth.viewerToken })).json());
  /** The drafted service of a container (other tests' containers on the shared engine may be drafted too). */
  const serviceOf = (d: AdoptDraftView, container: string) => d.added.find((s) => s.containers.includes(container));

  beforeAll(async () => {
    tmp = await makeTempDir('hl-adopt-');
    composeFile = path.join(tmp.path, 'stacks', project, 'docker-compose.yml');
    await fs.mkdir(path.dirname(composeFile), { recursive: true });
    const svc = (name: string, extra = '') =>
      `  ${name}:\n    image: ${image}\n    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]\n    network_mode: none\n${extra}`;
    const healthcheck = '    healthcheck:\n      test: ["CMD", "true"]\n      interval: 1s\n      retries: 1\n';
    await fs.writeFile(composeFile, `version: "2.4"\nservices:\n${svc('webapp', healthcheck)}${svc('store')}`);
    await compose('up', '-d');
    for (const [name, labels] of [
      [solo, {}],
      [optOut, { 'homelab.adopt': 'false' }],
    ] as const) {
      const c = await docker.createContainer({ name, Image: image, Cmd: ['sleep', '3600'], Labels: labels, HostConfig: { NetworkMode: 'none' } });
      await c.start();
    }
    hostsDir = path.join(tmp.path, 'hosts');
    await fs.mkdir(hostsDir);
    hub = await startHubProcess({ root: path.join(tmp.path, 'root'), hostsDir, name: 'adopt-hub' });
    agent = await startAgentProcess({
      node: 'piha',
      mqttUrl: hub.mqttUrl,
      dockerSocket: socket,
      stateDir: path.join(tmp.path, 'agent-piha'),
      name: 'adopt-agent',
      hubRoot: hub.root,
      stackRoots: [path.join(tmp.path, 'stacks')],
    });
  });

  afterAll(async () => {
    await agent?.stop();
    await hub?.proc.stop();
    await compose('down', '-t', '0').catch(() => undefined);
    for (const name of [solo, optOut])
      await docker
        .getContainer(name)
        .remove({ force: true })
        .catch(() => undefined);
    await tmp?.cleanup();
  });

  it('drafts one service per compose service and per standalone container, leaves out the opt-out, and writes nothing without --write', async () => {
    // An unknown node gets an empty desired state, so its agent reports what runs.
    const d = await waitFor(
      async () => {
        const res = await hub.api('/api/nodes/piha/adopt', { token: hub.auth.viewerToken });
        if (res.status !== 200) return null;
        const got = AdoptDraftView.parse(await res.json());
        return serviceOf(got, solo) && serviceOf(got, `${project}_webapp_1`) ? got : null;
      },
      { timeoutMs: 40_000, what: 'the draft lists the containers of piha' },
    );
    expect(d.problems).toEqual([]);
    expect(d.baseRevision).toBe('none');
    expect(serviceOf(d, `${project}_webapp_1`)).toMatchObject({
      name: 'webapp',
      compose: { file: composeFile, project },
      healthcheck: true,
    });
    expect(serviceOf(d, `${project}_store_1`)).toMatchObject({ name: 'store', compose: { file: composeFile, project }, healthcheck: false });
    expect(serviceOf(d, solo)).toMatchObject({ name: solo, containers: [solo] });
    expect(serviceOf(d, optOut)).toBeUndefined();
    expect(d.skipped).toContainEqual({ container: optOut, reason: 'labelled homelab.adopt=false' });

    const shown = await cli([], hub.auth.viewerToken, 'adopt-cli-show');
    expect(shown.code).toBe(0);
    expect(shown.out).toContain('+++ hosts/piha/services.yaml');
    expect(shown.out).toContain(`+  ${solo}:`);
    expect(shown.out).toContain('Not written');
    await expect(fs.stat(path.join(hostsDir, 'piha', 'services.yaml'))).rejects.toThrow(/ENOENT/);
  });

  it('refuses --write with a viewer token and writes nothing', async () => {
    const refused = await cli(['--write'], hub.auth.viewerToken, 'adopt-cli-viewer');
    expect(refused.code).not.toBe(0);
    expect(refused.out).toMatch(/operator|forbidden|viewer/i);
    await expect(fs.stat(path.join(hostsDir, 'piha', 'services.yaml'))).rejects.toThrow(/ENOENT/);
  });

  it('writes the draft with --write, valid by the same schema, and the hub then watches the adopted services', async () => {
    const written = await cli(['--write'], hub.auth.operatorToken, 'adopt-cli-write');
    expect(written.code, written.out).toBe(0);
    expect(written.out).toContain('wrote hosts/piha/services.yaml');
    const text = await fs.readFile(path.join(hostsDir, 'piha', 'services.yaml'), 'utf8');
    expect(text).toContain('\nnode: piha\n');
    expect(text).toContain(`  webapp:\n    containers:\n      - ${project}_webapp_1\n    compose:\n      file: ${composeFile}\n      project: ${project}\n`);
    expect(text).toMatch(/# healthcheck: defined[^\n]*\n {2}webapp:/);
    expect(text).not.toContain(optOut);

    const validate = homelab(['validate', '--hosts', hostsDir], { name: 'adopt-validate', env: { LOG_LEVEL: 'warn' } });
    expect(await validate.exited, validate.output()).toBe(0);

    const status = async (service: string) => {
      const world = (await (await hub.api('/api/world', { token: hub.auth.viewerToken })).json()) as { services: Record<string, { status: string }> };
      return world.services[`piha/${service}`]?.status;
    };
    await waitFor(async () => (await status('webapp')) === 'healthy' && (await status('store')) === 'healthy' && (await status(solo)) === 'healthy', {
      timeoutMs: 40_000,
      what: 'the adopted services healthy in the world',
    });
    // Reported again under the new desired state: nothing of this node's own is left to adopt.
    await waitFor(async () => !serviceOf(await draft(), solo), { timeoutMs: 30_000, what: 'the adopted containers no longer unmanaged' });
    const d = await draft();
    expect(serviceOf(d, `${project}_webapp_1`)).toBeUndefined();
    expect(d.skipped).toContainEqual({ container: optOut, reason: 'labelled homelab.adopt=false' });
  });
});
