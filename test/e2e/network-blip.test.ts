import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeTempDir, sleep, startMosquitto, waitFor, type LoggedProcess, type MosquittoHandle, type TempDir } from '@homelab/testkit';
import { TcpGate } from '@homelab/node-agent/testing';
import { agentMqttEnv } from '../support/mqtt-identities';
import { homelab, readEvents, readJson, startHubProcess, writeHosts, type HubProcess } from '../support/stack';

/**
 * A Wi-Fi blip between a node and the broker (docs/mqtt.md "Status ordering"):
 * the agent reaches the broker through a TCP relay; cutting the relay resets
 * the agent's live connection (the broker publishes its last will) and refuses
 * new ones for 5 s. The agent reconnects with the same session and keeps
 * publishing; the node must show online again and stay remediated.
 */
describe.each(['embedded aedes', 'mosquitto'] as const)('a network blip between agent and the %s broker', (broker) => {
  const docker = new Docker({ socketPath: inject('dockerSocket') });
  const image = inject('busyboxImage');
  const slug = broker === 'mosquitto' ? 'mosquitto' : 'aedes';
  const containerName = `hl-e2e-blip-${slug}-${process.pid}`;
  const actionId = 'container-restart-piha-app';
  let tmp: TempDir;
  let mosquitto: MosquittoHandle | undefined;
  let hub: HubProcess;
  let gate: TcpGate;
  let agent: LoggedProcess;

  const nodeState = async () => (await readJson(path.join(hub.root, 'world/nodes.json')))?.nodes?.piha;
  const connects = () => (agent.output().match(/"msg":"mqtt connected"/g) ?? []).length;

  beforeAll(async () => {
    tmp = await makeTempDir('hl-blip-');
    await (await docker.createContainer({ name: containerName, Image: image, Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: 'none' } })).start();
    const hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, { piha: `node: piha\nservices:\n  app:\n    containers: [${containerName}]\n` });
    if (broker === 'mosquitto') mosquitto = await startMosquitto();
    // The hub reaches the broker directly; only the agent's path goes through the relay.
    hub = await startHubProcess({ root: path.join(tmp.path, 'root'), hostsDir, name: `network-blip-${slug}-hub`, mqttUrl: mosquitto?.url });
    gate = await TcpGate.open(Number(new URL(hub.mqttUrl).port));
    const state = path.join(tmp.path, 'agent-piha');
    agent = homelab(['agent', '--node', 'piha', '--mqtt-url', gate.url, '--docker-socket', inject('dockerSocket'), '--state-dir', state], {
      name: `network-blip-${slug}-agent`,
      env: await agentMqttEnv(broker === 'mosquitto' ? undefined : hub.root, 'piha'),
    });
  });

  afterAll(async () => {
    await agent?.stop();
    await gate?.cut();
    await hub?.proc.stop();
    await mosquitto?.stop();
    await docker
      .getContainer(containerName)
      .remove({ force: true })
      .catch(() => undefined);
    await tmp?.cleanup();
  });

  it('shows the node online with its service healthy before the blip', async () => {
    await waitFor(async () => (await nodeState())?.online === true, { timeoutMs: 30_000, what: 'piha online in world/nodes.json' });
    await waitFor(async () => (await readJson(path.join(hub.root, 'world/services.json')))?.services?.['piha/app']?.status === 'healthy', {
      timeoutMs: 30_000,
      what: 'piha/app healthy',
    });
  });

  it('shows the node online again after a 5 s cut once the agent reconnected with the same session', async () => {
    const before = await nodeState();
    const connected = connects();
    await gate.cut();
    // The broker noticed the reset connection and published the will: the node is offline now.
    await waitFor(async () => (await nodeState())?.online === false, { timeoutMs: 15_000, what: 'piha offline after the cut (its will)' });
    await sleep(5_000);
    await gate.open();
    await waitFor(() => connects() > connected, { timeoutMs: 20_000, what: 'the agent reconnected' });
    const node = await waitFor(
      async () => {
        const n = await nodeState();
        return n?.online === true ? n : null;
      },
      { timeoutMs: 15_000, what: 'piha online again in world/nodes.json' },
    );
    expect(node.session).toBe(before.session);
    // Both the will and the new birth are in the hub's stream, same session, later connection online.
    const statuses = (await readEvents(hub.root, '_hub')).map((r) => r.event).filter((e) => e.node === 'piha');
    const will = statuses.findLast((e) => e.type === 'node_offline');
    const birth = statuses.findLast((e) => e.type === 'node_online');
    expect(will.data.session).toBe(birth.data.session);
    expect(birth.data.connection).toBeGreaterThan(will.data.connection);
    // And it stays online while the agent keeps publishing.
    await sleep(2_000);
    expect((await nodeState())?.online).toBe(true);
  });

  it('proposes an action for a container stopped after the blip', async () => {
    await docker.getContainer(containerName).stop({ t: 0 });
    const pending = await waitFor(() => readJson(path.join(hub.root, 'actions/pending', `${actionId}.json`)), {
      timeoutMs: 30_000,
      what: `actions/pending/${actionId}.json`,
    });
    expect(pending).toMatchObject({ id: actionId, type: 'container_restart', node: 'piha', service: 'app', state: 'pending' });
  });

  it('runs the approved action on the node and records the result', async () => {
    const res = await hub.api(`/api/actions/${actionId}/approve`, { method: 'POST', body: JSON.stringify({ by: 'e2e-operator' }) });
    expect(res.status).toBe(200);
    const completed = await waitFor(
      async () => {
        const a = await readJson(path.join(hub.root, 'actions/completed', `${actionId}.json`));
        return a?.state === 'completed' ? a : null;
      },
      { timeoutMs: 30_000, what: `actions/completed/${actionId}.json` },
    );
    expect(completed.result).toMatchObject({ actionId, node: 'piha', status: 'completed' });
    expect((await docker.getContainer(containerName).inspect()).State.Running).toBe(true);
  });
});
