import fs from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FsActionStore } from '@homelab/action-store';
import type { Action } from '@homelab/contracts';
import { makeTempDir, waitFor, type LoggedProcess, type TempDir } from '@homelab/testkit';
import { pendingAction } from '@homelab/action-store/testing';
import { composeOn, maintenanceHost } from '../support/docker-events';
import { startAgentProcess, startHubProcess, writeHosts, type HubProcess } from '../support/stack';

/**
 * Two services of one compose project redeployed at the same time, on the real
 * engine with real docker-compose v1: the agent runs the project's compose
 * commands one after the other, so both recreate their container and neither
 * fails ("No such container", "name already in use", "Renaming a container
 * with the same name"). The node is in maintenance, so every action here is
 * written by the test and approved over HTTP.
 */
describe('redeploys of one compose project on the real engine', () => {
  const socket = inject('dockerSocket');
  const docker = new Docker({ socketPath: socket });
  const image = inject('busyboxImage');
  const project = `hlser${process.pid}`;
  const SERVICES = ['one', 'two'] as const;
  const container = (s: string) => `${project}_${s}_1`;
  let tmp: TempDir;
  let composeFile: string;
  let hub: HubProcess;
  let agent: LoggedProcess;
  let store: FsActionStore;

  const compose = (...args: string[]) => composeOn(socket, composeFile, project)(...args);
  const idOf = async (s: string) => (await docker.getContainer(container(s)).inspect()).Id;
  const finished = (id: string) =>
    waitFor(
      async () => {
        const a = await store.get(id);
        return a && (a.state === 'completed' || a.state === 'failed') && a.audit.at(-1)?.state === a.state ? a : null;
      },
      { timeoutMs: 90_000, what: `${id} completed or failed` },
    );

  beforeAll(async () => {
    tmp = await makeTempDir('hl-ser-');
    const root = path.join(tmp.path, 'root');
    const hostsDir = path.join(tmp.path, 'hosts');
    composeFile = path.join(tmp.path, 'compose', 'docker-compose.yml');
    await fs.mkdir(path.dirname(composeFile), { recursive: true });
    // `two` depends on `one` (an app and its database): `up --force-recreate two` recreates `one` too, so two
    // concurrent runs of the project stop, rename and remove the same container.
    const svc = (name: string, extra = '') =>
      `  ${name}:\n    image: ${image}\n    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]\n    network_mode: none\n${extra}`;
    await fs.writeFile(composeFile, `version: "2.4"\nservices:\n${svc('one')}${svc('two', '    depends_on: [one]\n')}`);
    await compose('up', '-d');
    const lines = maintenanceHost('piha');
    for (const s of SERVICES)
      lines.push(`  ${s}:`, `    containers: [${container(s)}]`, '    compose:', `      file: ${composeFile}`, `      project: ${project}`);
    await writeHosts(hostsDir, { piha: `${lines.join('\n')}\n` });
    store = new FsActionStore({ root });
    await store.init();
    hub = await startHubProcess({
      root,
      hostsDir,
      name: 'compose-serial-hub',
      env: { HOMELAB_COMMAND_TIMEOUT_MS: '90000', HOMELAB_EXECUTOR_INTERVAL_MS: '200' },
    });
    agent = await startAgentProcess({
      node: 'piha',
      mqttUrl: hub.mqttUrl,
      dockerSocket: socket,
      stateDir: path.join(tmp.path, 'agent-piha'),
      name: 'compose-serial-agent',
      hubRoot: root,
      stackRoots: [path.dirname(composeFile)],
    });
    // The agent has the desired state (with the compose settings) once the world shows both services.
    await waitFor(
      async () => {
        const res = await hub.api('/summary?services=all');
        const s = (await res.json()) as { services: { service: string; status: string }[] };
        return SERVICES.every((name) => s.services.some((v) => v.service === name && v.status === 'healthy'));
      },
      { timeoutMs: 40_000, what: 'both services healthy in world' },
    );
  });

  afterAll(async () => {
    await agent?.stop();
    await hub?.proc.stop();
    if (composeFile) await compose('down', '-t', '0').catch(() => undefined);
    await tmp?.cleanup();
  });

  it('recreates both containers when two redeploys of the project are approved at once, twice over', async () => {
    for (let round = 1; round <= 2; round += 1) {
      const before = Object.fromEntries(await Promise.all(SERVICES.map(async (s) => [s, await idOf(s)] as const)));
      const now = new Date().toISOString();
      for (const s of SERVICES) {
        expect(await store.create(pendingAction(`redeploy-piha-${s}`, { type: 'redeploy', risk: 'guarded', service: s, createdAt: now, updatedAt: now }))).toBe(
          'created',
        );
      }
      const approvals = await Promise.all(
        SERVICES.map((s) => hub.api(`/api/actions/redeploy-piha-${s}/approve`, { method: 'POST', body: JSON.stringify({ by: 'e2e-serial' }) })),
      );
      expect(approvals.map((r) => r.status)).toEqual([200, 200]);
      const done: Action[] = await Promise.all(SERVICES.map((s) => finished(`redeploy-piha-${s}`)));
      for (const a of done) {
        expect(a.result?.output ?? '', `round ${round}, ${a.id}`).not.toMatch(/No such container|already in use|ERROR/i);
        expect({ id: a.id, state: a.state, error: a.result?.error }).toEqual({ id: a.id, state: 'completed', error: undefined });
      }
      for (const s of SERVICES) {
        expect(await idOf(s), `round ${round}: ${s} recreated`).not.toBe(before[s]);
        expect((await docker.getContainer(container(s)).inspect()).State.Running).toBe(true);
      }
    }
  });
});
