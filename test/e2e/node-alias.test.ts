import fs from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeTempDir, sleep, spawnLogged, startMosquitto, waitFor, type LoggedProcess, type MosquittoHandle, type TempDir } from '@homelab/testkit';
import { provisionMqtt, testSecret } from '../support/mqtt-identities';
import { ARTIFACTS, homelab, readJson, startAgentProcess, startHubProcess, writeHosts, type HubProcess } from '../support/stack';

/**
 * NODE_ALIAS_MAP end to end (docs/node-aliases.md) on a real agent, the real
 * Docker engine and both brokers, each with the ACL the hub enforces (the
 * embedded one, or Mosquitto configured only with `homelab broker-config`):
 * the agent runs as `node-x`, the topology calls the machine `piha`. An agent
 * may read only its own topics, so the hub must publish desired state and
 * commands there, and take its results back as piha's.
 */
const ALIAS = 'node-x';
const CANONICAL = 'piha';
const INSPECTOR = 'e2e-alias-inspector';

describe.each(['embedded aedes', 'mosquitto'] as const)('a node known by an alias (%s broker)', (broker) => {
  const docker = new Docker({ socketPath: inject('dockerSocket') });
  const slug = broker === 'mosquitto' ? 'mosquitto' : 'aedes';
  const containerName = `hl-e2e-alias-${slug}-${process.pid}`;
  const actionId = `container-restart-${CANONICAL}-zigbee2mqtt`;
  let tmp: TempDir;
  let mosquitto: MosquittoHandle | undefined;
  let hub: HubProcess;
  let agent: LoggedProcess;
  let sub: LoggedProcess;

  /** Payloads the inspector saw on a topic. */
  const seen = (topic: string): any[] =>
    sub
      .output()
      .split('\n')
      .filter((l) => l.startsWith(`${topic} `))
      .map((l) => JSON.parse(l.slice(topic.length + 1)));
  const topic = (node: string, channel: string) => `homelab/v1/nodes/${node}/${channel}`;
  const worldService = async () => (await readJson(path.join(hub.root, 'world/services.json')))?.services?.[`${CANONICAL}/zigbee2mqtt`];
  const actions = async () =>
    ((await (await hub.api('/api/actions')).json()) as { actions: { id: string; type: string; state: string; cancelReason?: string }[] }).actions;

  beforeAll(async () => {
    tmp = await makeTempDir('hl-e2e-alias-');
    const container = await docker.createContainer({
      name: containerName,
      Image: inject('busyboxImage'),
      Cmd: ['sleep', '3600'],
      HostConfig: { NetworkMode: 'none' },
    });
    await container.start();
    const hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, { [CANONICAL]: `node: ${CANONICAL}\nservices:\n  zigbee2mqtt:\n    containers: [${containerName}]\n` });
    const root = path.join(tmp.path, 'root');
    // Every identity exists before the broker starts (Mosquitto reads its files once).
    await provisionMqtt(root, [ALIAS]);
    await provisionMqtt(root, [INSPECTOR], 'inspector');
    const env = { NODE_ALIAS_MAP: JSON.stringify({ [ALIAS]: CANONICAL }) };
    if (broker === 'mosquitto') {
      await provisionMqtt(root, ['homelab-hub'], 'hub');
      const out = path.join(tmp.path, 'mosquitto');
      const gen = homelab(['broker-config', '--root', root, '--out', out], { name: 'alias-broker-config', env: { LOG_LEVEL: 'warn' } });
      expect(await gen.exited).toBe(0);
      // The generated conf as is, minus its listener (testkit's goes on a free loopback port).
      const conf = (await fs.readFile(path.join(out, 'mosquitto.conf'), 'utf8'))
        .split('\n')
        .filter((l) => !l.startsWith('listener'))
        .join('\n');
      mosquitto = await startMosquitto({ extraConfig: conf });
      hub = await startHubProcess({
        root,
        hostsDir,
        name: `alias-${slug}-hub`,
        mqttUrl: mosquitto.url,
        env: { ...env, HOMELAB_MQTT_PASSWORD: testSecret('homelab-hub') },
      });
    } else {
      hub = await startHubProcess({ root, hostsDir, name: `alias-${slug}-hub`, env });
    }
    const { port } = new URL(hub.mqttUrl);
    sub = spawnLogged('mosquitto_sub', ['-h', '127.0.0.1', '-p', port, '-u', INSPECTOR, '-P', testSecret(INSPECTOR), '-v', '-t', 'homelab/#'], {
      logFile: path.join(ARTIFACTS, `alias-${slug}-mosquitto_sub.log`),
    });
    agent = await startAgentProcess({
      node: ALIAS,
      mqttUrl: hub.mqttUrl,
      dockerSocket: inject('dockerSocket'),
      stateDir: path.join(tmp.path, 'agent'),
      name: `alias-${slug}-agent`,
      hubRoot: root,
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

  it('shows the canonical node online with its service healthy: the alias agent got the desired state on its own topic', async () => {
    await waitFor(async () => (await worldService())?.status === 'healthy', {
      timeoutMs: 30_000,
      what: `${CANONICAL}/zigbee2mqtt healthy in world/services.json`,
    });
    const nodes = (await readJson(path.join(hub.root, 'world/nodes.json'))).nodes;
    expect(nodes[CANONICAL].online).toBe(true);
    expect(Object.keys(nodes)).not.toContain(ALIAS);
    await waitFor(() => seen(topic(ALIAS, 'desired')).length > 0, { timeoutMs: 10_000, what: 'desired state on the alias topic' });
    expect(seen(topic(ALIAS, 'desired'))[0]).toMatchObject({ node: ALIAS, services: { zigbee2mqtt: { containers: [containerName] } } });
  });

  it('proposes no redeploy for the running container', async () => {
    await sleep(3_000); // three supervisor cycles with the service healthy
    // None may exist in any state: nothing is proposed before the alias agent's first
    // complete scan (docs/supervisor.md "First contact"), and after it the service is healthy.
    const redeploys = (await actions()).filter((a) => a.type === 'redeploy');
    expect(redeploys).toEqual([]);
    expect((await worldService())?.status).toBe('healthy');
  });

  it('proposes a restart under the canonical name when the container stops', async () => {
    await docker.getContainer(containerName).stop({ t: 0 });
    const pending = await waitFor(() => readJson(path.join(hub.root, 'actions/pending', `${actionId}.json`)), {
      timeoutMs: 30_000,
      what: `actions/pending/${actionId}.json`,
    });
    expect(pending).toMatchObject({ id: actionId, type: 'container_restart', node: CANONICAL, service: 'zigbee2mqtt', state: 'pending' });
  });

  it('restarts the container through the alias agent once approved, and completes the action', async () => {
    const res = await hub.api(`/api/actions/${actionId}/approve`, { method: 'POST', body: JSON.stringify({ by: 'e2e-operator' }) });
    expect(res.status).toBe(200);
    const file = path.join(hub.root, 'actions/completed', `${actionId}.json`);
    const completed = await waitFor(async () => ((await readJson(file))?.state === 'completed' ? readJson(file) : null), {
      timeoutMs: 30_000,
      what: `actions/completed/${actionId}.json`,
    });
    expect(completed.result).toMatchObject({ actionId, node: CANONICAL, status: 'completed' });
    expect(completed.audit.map((a: { state: string }) => a.state)).toEqual(['pending', 'approved', 'running', 'completed']);
    expect((await docker.getContainer(containerName).inspect()).State.Running).toBe(true);
    // Command and result travelled on the agent's own topics, addressed to it.
    await waitFor(() => seen(topic(ALIAS, 'results')).some((r) => r.actionId === actionId), { timeoutMs: 10_000, what: 'result on the alias topic' });
    expect(seen(topic(ALIAS, 'commands')).find((c) => c.actionId === actionId)).toMatchObject({
      node: ALIAS,
      type: 'container_restart',
      service: 'zigbee2mqtt',
    });
    expect(seen(topic(ALIAS, 'results')).find((r) => r.actionId === actionId)).toMatchObject({ node: ALIAS, status: 'completed' });
    expect(seen(topic(CANONICAL, 'commands'))).toEqual([]);
  });
});
