import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeTempDir, spawnLogged, startMosquitto, waitFor, type LoggedProcess, type MosquittoHandle, type TempDir } from '@homelab/testkit';
import { provisionMqtt, testSecret } from '../support/mqtt-identities';
import { ARTIFACTS, readEvents, readJson, startAgentProcess, startHubProcess, writeHosts, type HubProcess } from '../support/stack';

/**
 * The remediation spine (docs/architecture.md, "The path of an action") on a real Docker engine and a real broker:
 * a container goes down → the hub knows → an action waits → the operator
 * approves over HTTP → the agent restarts the container → the hub records it.
 */
describe.each(['embedded aedes', 'mosquitto'] as const)('remediation spine with the %s broker', (broker) => {
  const docker = new Docker({ socketPath: inject('dockerSocket') });
  const image = inject('busyboxImage');
  const containerName = `hl-e2e-z2m-${broker === 'mosquitto' ? 'mq' : 'ae'}-${process.pid}`;
  const actionId = 'container-restart-piha-zigbee2mqtt';
  let tmp: TempDir;
  let mosquitto: MosquittoHandle | undefined;
  let hub: HubProcess;
  let agent: LoggedProcess;
  let sub: LoggedProcess | undefined;

  beforeAll(async () => {
    tmp = await makeTempDir('hl-e2e-');
    const container = await docker.createContainer({
      name: containerName,
      Image: image,
      Cmd: ['sleep', '3600'],
      HostConfig: { NetworkMode: 'none' },
    });
    await container.start();
    const hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, {
      piha: `node: piha\nservices:\n  zigbee2mqtt:\n    containers: [${containerName}]\n`,
      'chelsty-ha': `node: chelsty-ha\nservices:\n  homeassistant:\n    monitor: false\n`,
    });
    const slug = broker === 'mosquitto' ? 'mosquitto' : 'aedes';
    if (broker === 'mosquitto') mosquitto = await startMosquitto();
    hub = await startHubProcess({ root: path.join(tmp.path, 'root'), hostsDir, name: `remediation-${slug}-hub`, mqttUrl: mosquitto?.url });
    const { port } = new URL(hub.mqttUrl);
    // A read-only inspector identity (`homelab nodes add e2e-inspector --role inspector`); the
    // embedded broker admits nobody anonymously. (The test Mosquitto has no password file: it ignores them.)
    await provisionMqtt(hub.root, ['e2e-inspector'], 'inspector');
    sub = spawnLogged('mosquitto_sub', ['-h', '127.0.0.1', '-p', port, '-u', 'e2e-inspector', '-P', testSecret('e2e-inspector'), '-v', '-t', 'homelab/#'], {
      logFile: path.join(ARTIFACTS, `remediation-${slug}-mosquitto_sub.log`),
    });
    agent = await startAgentProcess({
      node: 'piha',
      mqttUrl: hub.mqttUrl,
      dockerSocket: inject('dockerSocket'),
      stateDir: path.join(tmp.path, 'agent-piha'),
      name: `remediation-${slug}-agent`,
      hubRoot: hub.root,
    });
  });

  afterAll(async () => {
    await agent?.stop();
    await hub?.proc.stop();
    await sub?.stop();
    await mosquitto?.stop();
    await docker
      .getContainer(containerName)
      .remove({ force: true })
      .catch(() => undefined);
    await tmp?.cleanup();
  });

  const worldService = async () => (await readJson(path.join(hub.root, 'world/services.json')))?.services?.['piha/zigbee2mqtt'];

  it('sees the running container as a healthy service', async () => {
    const svc = await waitFor(async () => ((await worldService())?.status === 'healthy' ? await worldService() : null), {
      timeoutMs: 30_000,
      what: 'piha/zigbee2mqtt healthy in world/services.json',
    });
    expect(svc.node).toBe('piha');
    const nodes = await readJson(path.join(hub.root, 'world/nodes.json'));
    expect(nodes.nodes.piha.online).toBe(true);
  });

  it('proposes a container restart with the deterministic id when the container stops', async () => {
    await docker.getContainer(containerName).stop({ t: 0 });
    const pending = await waitFor(() => readJson(path.join(hub.root, 'actions/pending', `${actionId}.json`)), {
      timeoutMs: 30_000,
      what: `actions/pending/${actionId}.json`,
    });
    expect(pending).toMatchObject({ id: actionId, type: 'container_restart', risk: 'low', node: 'piha', service: 'zigbee2mqtt', state: 'pending' });
    expect(pending.drift).toMatchObject({ type: 'unhealthy_service', reason: 'containers_not_running' });
    const summary = (await (await hub.api('/summary', { token: hub.auth.viewerToken })).json()) as any;
    expect(summary.actions.pending.map((a: { id: string }) => a.id)).toContain(actionId);
    expect(summary.services.find((s: { service: string }) => s.service === 'zigbee2mqtt').status).toBe('unhealthy');
  });

  it('restarts the container once the operator approves over HTTP and records the result', async () => {
    const res = await hub.api(`/api/actions/${actionId}/approve`, {
      method: 'POST',
      body: JSON.stringify({ by: 'e2e-operator' }),
    });
    expect(res.status).toBe(200);
    // The store renames into completed/ first and rewrites the content next: wait for both.
    const completed = await waitFor(
      async () =>
        (await readJson(path.join(hub.root, 'actions/completed', `${actionId}.json`)))?.state === 'completed'
          ? readJson(path.join(hub.root, 'actions/completed', `${actionId}.json`))
          : null,
      {
        timeoutMs: 30_000,
        what: `actions/completed/${actionId}.json`,
      },
    );
    expect(completed.state).toBe('completed');
    expect(completed.result).toMatchObject({ actionId, node: 'piha', status: 'completed' });
    expect(completed.audit.map((a: { state: string }) => a.state)).toEqual(['pending', 'approved', 'running', 'completed']);
    expect(completed.audit[1].by).toBe('e2e-operator');
    const info = await docker.getContainer(containerName).inspect();
    expect(info.State.Running).toBe(true);
    // Approving again is a conflict, not a second restart.
    const again = await hub.api(`/api/actions/${actionId}/approve`, { method: 'POST', body: '{}' });
    expect(again.status).toBe(409);
  });

  it('keeps the events in the log and shows the service healthy again', async () => {
    await waitFor(async () => (await worldService())?.status === 'healthy', { timeoutMs: 30_000, what: 'service healthy again' });
    const events = (await readEvents(hub.root, 'piha')).map((r) => r.event);
    const unhealthy = events.findIndex((e) => e.type === 'service_unhealthy' && e.data.reason === 'containers_not_running');
    expect(unhealthy).toBeGreaterThanOrEqual(0);
    expect(events.slice(unhealthy + 1).some((e) => e.type === 'service_healthy' && e.service === 'zigbee2mqtt')).toBe(true);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('shows status, events, commands and results readably in mosquitto_sub', async () => {
    const out = () => sub!.output();
    await waitFor(() => out().includes('homelab/v1/nodes/piha/results'), { timeoutMs: 10_000, what: 'results line in mosquitto_sub' });
    const lines = out().split('\n');
    const payloadOf = (topic: string, pred: (p: any) => boolean) =>
      lines
        .filter((l) => l.startsWith(`${topic} `))
        .map((l) => JSON.parse(l.slice(topic.length + 1)))
        .find(pred);
    expect(payloadOf('homelab/v1/nodes/piha/status', (p) => p.state === 'online')).toMatchObject({ node: 'piha' });
    expect(payloadOf('homelab/v1/nodes/piha/events', (p) => p.type === 'service_unhealthy')).toMatchObject({
      service: 'zigbee2mqtt',
      data: { reason: 'containers_not_running' },
    });
    expect(payloadOf('homelab/v1/nodes/piha/commands', (p) => p.actionId === actionId)).toMatchObject({ type: 'container_restart', service: 'zigbee2mqtt' });
    expect(payloadOf('homelab/v1/nodes/piha/results', (p) => p.actionId === actionId)).toMatchObject({ status: 'completed' });
    expect(payloadOf('homelab/v1/nodes/piha/desired', (p) => p.node === 'piha')).toBeTruthy();
  });

  it('never proposes anything for a monitor: false service', async () => {
    const all = (await (await hub.api('/api/actions')).json()) as any;
    expect(all.actions.filter((a: { node: string }) => a.node === 'chelsty-ha')).toEqual([]);
  });
});
