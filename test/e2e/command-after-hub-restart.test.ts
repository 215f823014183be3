import path from 'node:path';
import Docker from 'dockerode';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FsActionStore } from '@homelab/action-store';
import { topics, type Action } from '@homelab/contracts';
import { makeTempDir, waitFor, type LoggedProcess, type TempDir } from '@homelab/testkit';
import { pendingAction } from '@homelab/action-store/testing';
import { TcpGate } from '@homelab/node-agent/testing';
import { kill9, startFaultHub, type FaultHub, type HubPorts } from '../support/fault';
import { agentMqttEnv, provisionMqtt, testSecret } from '../support/mqtt-identities';
import { maintenanceHost } from '../support/docker-events';
import { homelab, readJson, writeHosts } from '../support/stack';

/**
 * The hub restarts (embedded broker) while the node's agent is away: the
 * fresh broker holds no session for the agent, so a command sent before the
 * agent is back is dropped. The hub sends it again when the agent's birth
 * arrives (docs/actions.md "Commands"), not 30 s later on the resend timer;
 * and its retained per-service state is published as soon as its MQTT link is
 * up (docs/mqtt.md "Service state"). The agent reaches the broker through a
 * TCP relay kept shut across the restart, so "the agent is still
 * reconnecting" is a fact of the test, not a lucky timing.
 */
describe('commands and retained state across a hub restart with the embedded broker', () => {
  const socket = inject('dockerSocket');
  const docker = new Docker({ socketPath: socket });
  const image = inject('busyboxImage');
  const containerName = `hl-e2e-rehub-${process.pid}`;
  const actionId = 'container-restart-piha-app';
  /** "Well under" the 30 s of the timed resend (default command timeout 120 s / 4). */
  const BOUND_MS = 10_000;
  let tmp: TempDir;
  let root: string;
  let hostsDir: string;
  let ports: HubPorts;
  let hub: FaultHub;
  let incarnation = 0;
  let gate: TcpGate;
  let agent: LoggedProcess;
  let store: FsActionStore;

  const startHub = async () => {
    hub = await startFaultHub({ root, hostsDir, name: `command-after-hub-restart-hub-${++incarnation}`, ...(ports ? { ports } : {}) });
    ports = hub.ports;
  };
  const connects = () => (agent.output().match(/"msg":"mqtt connected"/g) ?? []).length;
  const nodeOnline = async () => (await readJson(path.join(root, 'world/nodes.json')))?.nodes?.piha?.online === true;
  const stateOf = async (): Promise<Action | null> => store.get(actionId);
  /** Claimed and its command handed to the broker (the content rewrite after the rename included). */
  const sentToAgent = async () => {
    const a = await stateOf();
    return a?.state === 'running' && a.command !== undefined && a.audit.at(-1)?.state === 'running';
  };
  /** Shuts the relay and waits until the hub has folded the agent's will: the agent is away. */
  const cutAgent = async () => {
    await gate.cut();
    await waitFor(async () => (await readJson(path.join(root, 'world/nodes.json')))?.nodes?.piha?.online === false, {
      timeoutMs: 15_000,
      what: 'piha offline',
    });
  };
  const newPending = async () => {
    const now = new Date().toISOString();
    expect(
      await store.create(
        pendingAction(actionId, {
          service: 'app',
          createdAt: now,
          updatedAt: now,
          audit: [{ at: now, state: 'pending', by: 'supervisor', via: 'supervisor' }],
        }),
      ),
    ).toBe('created');
  };
  const approveOverHttp = async () => {
    const res = await fetch(`${hub.httpUrl}/api/actions/${actionId}/approve`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${(await readJson(path.join(root, 'auth/initial-credentials.json'))).operatorToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ by: 'e2e-operator' }),
    });
    expect(res.status).toBe(200);
  };
  /** Opens the relay; resolves with the time the agent logged its new connection. */
  const agentBack = async (): Promise<number> => {
    const before = connects();
    await gate.open();
    await waitFor(() => connects() > before, { timeoutMs: 30_000, intervalMs: 20, what: 'the agent reconnected' });
    return Date.now();
  };
  const completedAfter = async (since: number) => {
    const done = await waitFor(
      async () => {
        const a = await stateOf();
        return a && (a.state === 'completed' || a.state === 'failed') && a.audit.at(-1)?.state === a.state ? a : null;
      },
      { timeoutMs: 60_000, intervalMs: 50, what: `${actionId} finished` },
    );
    return { done, ms: Date.now() - since };
  };

  beforeAll(async () => {
    tmp = await makeTempDir('hl-rehub-');
    root = path.join(tmp.path, 'root');
    hostsDir = path.join(tmp.path, 'hosts');
    await (await docker.createContainer({ name: containerName, Image: image, Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: 'none' } })).start();
    // A maintenance window: the supervisor neither proposes nor cancels; the test writes its own actions.
    await writeHosts(hostsDir, {
      piha: [...maintenanceHost('piha'), '  app:', `    containers: [${containerName}]`, ''].join('\n'),
    });
    await provisionMqtt(root, ['e2e-inspector'], 'inspector');
    await startHub();
    store = new FsActionStore({ root });
    await store.init();
    gate = await TcpGate.open(ports.mqtt!);
    agent = homelab(['agent', '--node', 'piha', '--mqtt-url', gate.url, '--docker-socket', socket, '--state-dir', path.join(tmp.path, 'agent-piha')], {
      name: 'command-after-hub-restart-agent',
      env: { ...(await agentMqttEnv(root, 'piha')), LOG_LEVEL: 'info', HOMELAB_RESTART_STOP_TIMEOUT_SEC: '1' },
    });
    await waitFor(nodeOnline, { timeoutMs: 30_000, what: 'piha online' });
    await waitFor(async () => (await readJson(path.join(root, 'world/services.json')))?.services?.['piha/app']?.status === 'healthy', {
      timeoutMs: 30_000,
      what: 'piha/app healthy',
    });
  });

  afterAll(async () => {
    await agent?.stop();
    await gate?.cut();
    await hub?.proc.stop();
    await docker
      .getContainer(containerName)
      .remove({ force: true })
      .catch(() => undefined);
    await tmp?.cleanup();
  });

  it('publishes the retained state of every service right after a restart, before any agent is back', async () => {
    await cutAgent();
    await kill9(hub.proc);
    await startHub();
    const world = (await readJson(path.join(root, 'world/services.json'))).services['piha/app'];
    const client = mqtt.connect(`mqtt://127.0.0.1:${ports.mqtt}`, {
      clientId: `e2e-inspector`,
      username: 'e2e-inspector',
      password: testSecret('e2e-inspector'),
      reconnectPeriod: 0,
    });
    try {
      const retained = await new Promise<{ payload: unknown; retain: boolean }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no retained service state within 5 s of the restart')), 5_000);
        client.on('message', (_topic, payload, packet) => {
          clearTimeout(timer);
          resolve({ payload: JSON.parse(payload.toString()), retain: packet.retain });
        });
        client.on('connect', () => client.subscribe(topics.serviceState('piha', 'app'), { qos: 1 }));
        client.on('error', reject);
      });
      expect(retained.retain).toBe(true);
      expect(retained.payload).toEqual({ node: 'piha', service: 'app', status: world.status, reason: world.reason ?? null, since: world.since });
      expect(retained.payload).toMatchObject({ status: 'healthy' });
    } finally {
      await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
    }
    await agentBack();
    await waitFor(nodeOnline, { timeoutMs: 30_000, what: 'piha online again' });
  });

  const rounds = [
    { round: 1, how: 'running, hub killed with -9' },
    { round: 2, how: 'approved, hub stopped' },
    { round: 3, how: 'running, hub killed with -9' },
    { round: 4, how: 'approved, hub stopped' },
  ] as const;
  it.each(rounds)('delivers the command within 10 s of the agent reconnecting (round $round: $how)', async ({ how }) => {
    if (!gate.isOpen) await gate.open(); // an earlier round that failed half-way
    await waitFor(nodeOnline, { timeoutMs: 30_000, what: 'piha online' });
    await newPending();
    await cutAgent();
    if (how === 'running, hub killed with -9') {
      // Sent while the agent is away: the broker queues it in the agent's session, which dies with the hub.
      await approveOverHttp();
      await waitFor(sentToAgent, { timeoutMs: 20_000, intervalMs: 50, what: 'running with its command sent' });
      await kill9(hub.proc);
      await startHub();
      // The restart resend goes to a broker that has never seen the agent.
      await waitFor(async () => (await stateOf())?.audit.some((e) => e.note?.endsWith('after hub restart')), {
        timeoutMs: 20_000,
        intervalMs: 50,
        what: 're-sent after the restart',
      });
    } else {
      // Approved just before the stop: the next hub claims and sends it before the agent is back.
      await hub.proc.stop();
      const now = new Date().toISOString();
      await store.transition(actionId, 'pending', 'approved', (a) => ({
        ...a,
        audit: [...a.audit, { at: now, state: 'approved', by: 'e2e-operator', via: 'api' }],
      }));
      await startHub();
      await waitFor(sentToAgent, { timeoutMs: 20_000, intervalMs: 50, what: 'running with its command sent' });
    }
    const back = await agentBack();
    const { done, ms } = await completedAfter(back);
    console.log(`round "${how}": finished ${ms} ms after the agent reconnected`);
    expect(done.state).toBe('completed');
    expect(done.result).toMatchObject({ actionId, node: 'piha', status: 'completed' });
    expect(ms).toBeLessThan(BOUND_MS);
    expect((await docker.getContainer(containerName).inspect()).State.Running).toBe(true);
  });
});
