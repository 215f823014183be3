import fs from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FsActionStore } from '@homelab/action-store';
import { topics, type Action, type Command } from '@homelab/contracts';
import { makeTempDir, startMosquitto, waitFor, type LoggedProcess, type MosquittoHandle, type TempDir } from '@homelab/testkit';
import { pendingAction } from '@homelab/action-store/testing';
import { composeOn, countContainerEvents, maintenanceHost } from '../support/docker-events';
import { readJson, startAgentProcess, startHubProcess, writeHosts, type HubProcess } from '../support/stack';

/**
 * Actions (docs/actions.md, "Types") on the real engine and real docker-compose v1: redeploy and
 * disk_cleanup end to end, duplicate delivery, kill -9 of the hub and of the
 * agent mid-action, and a command for an unknown service. The node is in a
 * maintenance window so the supervisor neither proposes nor auto-cancels
 * anything: every action here is written by the test and approved over HTTP.
 */
describe('executor and agent commands on the real engine', () => {
  const socket = inject('dockerSocket');
  const docker = new Docker({ socketPath: socket });
  const image = inject('busyboxImage');
  const project = `hlx${process.pid}`;
  const appContainer = `${project}_app_1`;
  const junk = `hlx-junk-${process.pid}`;
  const keep = `hlx-keep-${process.pid}`;
  const idle = `hlx-idle-${process.pid}`;
  const spareVolume = `hlx-spare-${process.pid}`;
  const redeployId = 'redeploy-piha-app';
  let tmp: TempDir;
  let composeFile: string;
  let mosquitto: MosquittoHandle;
  let hub: HubProcess;
  let agent: LoggedProcess;
  let root: string;
  let hostsDir: string;
  let agentState: string;
  let store: FsActionStore;
  const since = Math.floor(Date.now() / 1000) - 1;
  const hubEnv = { HOMELAB_COMMAND_TIMEOUT_MS: '40000', HOMELAB_EXECUTOR_INTERVAL_MS: '500' };

  const compose = (...args: string[]) => composeOn(socket, composeFile, project)(...args);
  const appId = async () => (await docker.getContainer(appContainer).inspect()).Id;
  /** Containers docker created for the compose service since the test began (each recreate is one). */
  const creates = () => countContainerEvents(docker, since, { event: ['create'], label: [`com.docker.compose.project=${project}`] });
  const startHub = (name: string) => startHubProcess({ root, hostsDir, name, mqttUrl: mosquitto.url, env: hubEnv });
  const startAgent = (name: string) =>
    startAgentProcess({ node: 'piha', mqttUrl: mosquitto.url, dockerSocket: socket, stateDir: agentState, name, stackRoots: [path.dirname(composeFile)] });
  const approve = (id: string, by = 'e2e-alice') =>
    hub.api(`/api/actions/${id}/approve`, {
      method: 'POST',
      headers: { 'user-agent': 'executor-e2e/1.0' },
      body: JSON.stringify({ by }),
    });
  const finished = (id: string, timeoutMs = 60_000) =>
    waitFor(
      async () => {
        const a = await store.get(id);
        // The store renames into the folder first and rewrites the content next: wait for the content too.
        return a && (a.state === 'completed' || a.state === 'failed') && a.audit.at(-1)?.state === a.state ? a : null;
      },
      { timeoutMs, what: `${id} completed or failed` },
    );
  const running = (id: string) => waitFor(async () => (await store.get(id))?.state === 'running', { timeoutMs: 20_000, intervalMs: 50, what: `${id} running` });
  const journalStarted = () =>
    waitFor(async () => (await readJson(path.join(agentState, 'journal', `${redeployId}.json`)))?.state === 'started', {
      timeoutMs: 20_000,
      intervalMs: 20,
      what: 'agent journal says started',
    });
  const newRedeploy = async () => {
    const now = new Date().toISOString();
    expect(await store.create(pendingAction(redeployId, { type: 'redeploy', risk: 'guarded', service: 'app', createdAt: now, updatedAt: now }))).toBe(
      'created',
    );
  };

  beforeAll(async () => {
    tmp = await makeTempDir('hl-exec-');
    root = path.join(tmp.path, 'root');
    hostsDir = path.join(tmp.path, 'hosts');
    agentState = path.join(tmp.path, 'agent-piha');
    composeFile = path.join(tmp.path, 'compose', 'docker-compose.yml');
    await fs.mkdir(path.dirname(composeFile), { recursive: true });
    // busybox sleep as PID 1 ignores SIGTERM: the 5 s grace period makes each recreate take ~5 s (the window for the kill tests, wide enough on a loaded machine).
    await fs.writeFile(
      composeFile,
      `version: "2.4"\nservices:\n  app:\n    image: ${image}\n    command: ["sleep", "3600"]\n    network_mode: none\n    stop_grace_period: 5s\n`,
    );
    await compose('up', '-d', 'app');
    for (const [name, labels] of [
      [junk, {}],
      [keep, { 'homelab.keep': 'true' }],
      [idle, {}],
    ] as const) {
      await docker.createContainer({ name, Image: image, Cmd: ['true'], Labels: labels, HostConfig: { NetworkMode: 'none' } });
    }
    await docker.createVolume({ Name: spareVolume });
    await writeHosts(hostsDir, {
      piha: [
        ...maintenanceHost('piha', 'executor e2e writes its own actions'),
        '  app:',
        `    containers: [${appContainer}]`,
        '    compose:',
        `      file: ${composeFile}`,
        `      project: ${project}`,
        '      service: app',
        '  idle:',
        `    containers: [${idle}]`,
        '',
      ].join('\n'),
    });
    store = new FsActionStore({ root });
    await store.init();
    await newRedeploy();
    mosquitto = await startMosquitto();
    hub = await startHub('executor-hub');
    agent = await startAgent('executor-agent');
    // The agent has the desired state once the hub's world shows its service.
    await waitFor(async () => (await readJson(path.join(root, 'world/services.json')))?.services?.['piha/app']?.status === 'healthy', {
      timeoutMs: 40_000,
      what: 'piha/app healthy in world',
    });
  });

  afterAll(async () => {
    await agent?.stop();
    await hub?.proc.stop();
    await mosquitto?.stop();
    if (composeFile) await compose('down', '-t', '0').catch(() => undefined);
    for (const name of [junk, keep, idle])
      await docker
        .getContainer(name)
        .remove({ force: true })
        .catch(() => undefined);
    await docker
      .getVolume(spareVolume)
      .remove()
      .catch(() => undefined);
    await tmp?.cleanup();
  });

  it('redeploys with docker-compose once approved over HTTP: a new container, the output tail and a full audit', async () => {
    const before = await appId();
    const res = await approve(redeployId);
    expect(res.status).toBe(200);
    const done = await finished(redeployId);
    expect(done.result).toMatchObject({ status: 'completed', node: 'piha' });
    expect(done.result!.output).toContain(`$ docker-compose -f ${composeFile} -p ${project} up -d --force-recreate -- app`);
    expect(done.result!.output).toMatch(/Recreating/);
    expect(await appId()).not.toBe(before);
    expect((await docker.getContainer(appContainer).inspect()).State.Running).toBe(true);
    expect(await creates()).toBe(2); // the initial `up` and one recreate
    expect(done.audit.map((e) => e.state)).toEqual(['pending', 'approved', 'running', 'completed']);
    expect(done.audit[1]).toMatchObject({ by: 'e2e-alice', via: 'api', from: { ip: '127.0.0.1', userAgent: 'executor-e2e/1.0' } });
    expect(done.audit[3]!.durationMs).toBeGreaterThan(0);
    expect(done.audit[3]!.sinceApprovalMs).toBeGreaterThanOrEqual(done.audit[3]!.durationMs!);
  });

  it('answers the same command delivered twice more from the journal without recreating anything', async () => {
    const a = (await store.get(redeployId))!;
    const idBefore = await appId();
    const startedBefore = (await docker.getContainer(appContainer).inspect()).State.StartedAt;
    const cmd: Command = {
      actionId: a.id,
      node: 'piha',
      type: 'redeploy',
      service: 'app',
      issuedAt: a.command!.sentAt,
      deadline: a.command!.deadline,
      actionCreatedAt: a.createdAt,
    };
    const client = await mqtt.connectAsync(mosquitto.url, { clientId: `e2e-dup-${process.pid}` });
    try {
      const results: any[] = [];
      client.on('message', (_t, p) => results.push(JSON.parse(p.toString())));
      await client.subscribeAsync(topics.results('piha'), { qos: 1 });
      await client.publishAsync(topics.commands('piha'), JSON.stringify(cmd), { qos: 1 });
      await client.publishAsync(topics.commands('piha'), JSON.stringify(cmd), { qos: 1 });
      await waitFor(() => results.filter((r) => r.actionId === redeployId).length >= 2, { timeoutMs: 15_000, what: 'two replayed results' });
      expect(results.filter((r) => r.actionId === redeployId).every((r) => r.replayed === true && r.status === 'completed')).toBe(true);
    } finally {
      await client.endAsync();
    }
    expect(await appId()).toBe(idBefore);
    expect((await docker.getContainer(appContainer).inspect()).State.StartedAt).toBe(startedBefore);
    expect(await creates()).toBe(2);
    expect((await store.get(redeployId))!.state).toBe('completed');
  });

  it('resumes a running redeploy after kill -9 of the hub and completes it exactly once', async () => {
    await newRedeploy();
    expect((await approve(redeployId)).status).toBe(200);
    await running(redeployId);
    await journalStarted(); // the agent is executing it
    hub.proc.kill('SIGKILL');
    await hub.proc.exited;
    hub = await startHub('executor-hub-2');
    const done = await finished(redeployId);
    expect(done.state).toBe('completed');
    expect(done.audit.filter((e) => e.state === 'completed')).toHaveLength(1);
    expect(done.audit.some((e) => e.note?.includes('re-sent after hub restart'))).toBe(true);
    expect(await creates()).toBe(3); // exactly one more recreate
  });

  it('answers interrupted or completed when the agent is killed mid-redeploy, and never runs it twice', async () => {
    await newRedeploy();
    expect((await approve(redeployId)).status).toBe(200);
    await journalStarted();
    agent.kill('SIGKILL');
    await agent.exited;
    agent = await startAgent('executor-agent-2');
    const done = await finished(redeployId);
    if (done.state === 'failed') expect(done.result?.error?.code).toBe('interrupted');
    else expect(done.state).toBe('completed');
    // compose (a child the kill did not reach) may have finished the recreate; nothing ran it a second time.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await creates()).toBeLessThanOrEqual(4);
    await waitFor(
      async () =>
        (
          await docker
            .getContainer(appContainer)
            .inspect()
            .catch(() => null)
        )?.State.Running === true,
      { timeoutMs: 20_000, what: 'app running' },
    );
  });

  it.each([
    { id: 'redeploy-piha-ghost', service: 'ghost', code: 'unknown_service' },
    { id: 'redeploy-piha-idle', service: 'idle', code: 'not_configured' },
  ])('fails a redeploy of $service with $code and runs nothing', async ({ id, service, code }) => {
    const n = await creates();
    const now = new Date().toISOString();
    await store.create(pendingAction(id, { type: 'redeploy', risk: 'guarded', service, createdAt: now, updatedAt: now }));
    expect((await approve(id)).status).toBe(200);
    const done = await finished(id, 30_000);
    expect(done.state).toBe('failed');
    expect(done.result?.error?.code).toBe(code);
    expect(await creates()).toBe(n);
  });

  it('disk_cleanup removes a stopped unmanaged container and keeps labelled and desired ones', async () => {
    const now = new Date().toISOString();
    const cleanup: Action = pendingAction('disk-cleanup-piha', {
      type: 'disk_cleanup',
      risk: 'guarded',
      service: undefined,
      drift: { type: 'disk_pressure', eventIds: [], firstSeen: now },
      createdAt: now,
      updatedAt: now,
    });
    await store.create(cleanup);
    // First the preview on the pending action: a dry run that removes nothing.
    const previewed = await waitFor(
      async () => {
        const a = await store.get('disk-cleanup-piha');
        return a?.state === 'pending' && a.preview ? a : undefined;
      },
      { timeoutMs: 30_000, what: 'a disk cleanup preview on the pending action' },
    );
    const wouldRemove = previewed.preview!.removed.filter((r) => r.kind === 'container').map((r) => r.name);
    expect(wouldRemove).toContain(junk);
    expect(wouldRemove).not.toContain(keep);
    expect(wouldRemove).not.toContain(idle);
    expect(previewed.preview!.reclaimedBytes).toBeGreaterThanOrEqual(0);
    expect((await docker.getContainer(junk).inspect()).Name).toBe(`/${junk}`);
    expect((await approve('disk-cleanup-piha', 'e2e-bob')).status).toBe(200);
    const done = await finished('disk-cleanup-piha', 30_000);
    expect(done.state).toBe('completed');
    const removedNames = done.result!.cleanup!.removed.filter((r) => r.kind === 'container').map((r) => r.name);
    expect(removedNames).toContain(junk);
    expect(removedNames).not.toContain(keep);
    expect(removedNames).not.toContain(idle);
    expect(done.result!.cleanup!.kept).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: keep, why: 'label homelab.keep=true' }), expect.objectContaining({ name: idle })]),
    );
    expect(done.result!.output).toContain('reclaimed');
    await expect(docker.getContainer(junk).inspect()).rejects.toThrow();
    expect((await docker.getContainer(keep).inspect()).Name).toBe(`/${keep}`);
    expect((await docker.getContainer(idle).inspect()).Name).toBe(`/${idle}`);
    expect((await docker.getContainer(appContainer).inspect()).State.Running).toBe(true);
    // Volumes are never touched unless the node opted in.
    expect((await docker.getVolume(spareVolume).inspect()).Name).toBe(spareVolume);
  });

  it('disk_cleanup removes an unused volume only when the action says so (diskCleanup.volumes)', async () => {
    const now = new Date().toISOString();
    await store.create(
      pendingAction('disk-cleanup-piha', {
        type: 'disk_cleanup',
        risk: 'guarded',
        service: undefined,
        removeVolumes: true,
        drift: { type: 'disk_pressure', eventIds: [], firstSeen: now },
        createdAt: now,
        updatedAt: now,
      }),
    );
    const previewed = await waitFor(async () => (await store.get('disk-cleanup-piha'))?.preview, { timeoutMs: 30_000, what: 'a preview with volumes' });
    expect(previewed.removed).toContainEqual(expect.objectContaining({ kind: 'volume', name: spareVolume }));
    expect((await approve('disk-cleanup-piha', 'e2e-bob')).status).toBe(200);
    const done = await finished('disk-cleanup-piha', 30_000);
    expect(done.state).toBe('completed');
    expect(done.result!.cleanup!.removed).toContainEqual(expect.objectContaining({ kind: 'volume', name: spareVolume }));
    await expect(docker.getVolume(spareVolume).inspect()).rejects.toThrow();
  });
});
