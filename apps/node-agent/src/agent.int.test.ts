import path from 'node:path';
import type Docker from 'dockerode';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics, type Command } from '@homelab/contracts';
import { createLogger } from '@homelab/logging';
import {
  ensureBusyboxImage,
  makeTempDir,
  startDockerd,
  startMosquitto,
  waitFor,
  type DockerdHandle,
  type MosquittoHandle,
  type TempDir,
} from '@homelab/testkit';
import type { NodeAgent } from './agent';
import { parseAgentConfig } from './config';
import { runAgent } from './main';

/**
 * The agent against a real dockerd and a real Mosquitto; this test plays the
 * hub (retained desired state, acks, commands) with a plain MQTT.js client.
 */
describe('node agent with real Docker and Mosquitto', () => {
  const node = 'piha';
  const container = `hl-agent-int-z2m-${process.pid}`;
  let dockerd: DockerdHandle;
  let docker: Docker;
  let mosquitto: MosquittoHandle;
  let tmp: TempDir;
  let hub: MqttClient;
  let agent: NodeAgent | undefined;
  const received: Array<{ topic: string; body: any; at: number }> = [];
  const events = () => received.filter((m) => m.topic === topics.events(node)).map((m) => ({ ...m.body, at: m.at }));
  const results = () => received.filter((m) => m.topic === topics.results(node)).map((m) => m.body);

  const command = (): Command => {
    const now = Date.now();
    return {
      actionId: `container-restart-${node}-z2m`,
      node,
      type: 'container_restart',
      service: 'z2m',
      issuedAt: new Date(now).toISOString(),
      deadline: new Date(now + 120_000).toISOString(),
      actionCreatedAt: new Date(now - 1000).toISOString(),
    };
  };

  beforeAll(async () => {
    tmp = await makeTempDir('hl-agent-int');
    [dockerd, mosquitto] = await Promise.all([startDockerd(), startMosquitto()]);
    docker = dockerd.docker;
    const image = await ensureBusyboxImage(docker);
    const c = await docker.createContainer({ name: container, Image: image, Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: 'none' } });
    await c.start();

    hub = mqtt.connect(mosquitto.url, { clientId: 'homelab-hub', username: 'homelab-hub', reconnectPeriod: 200 });
    hub.on('message', (topic, payload) => {
      const body = JSON.parse(payload.toString());
      received.push({ topic, body, at: Date.now() });
      // Like the hub: ack every event once "durably written".
      if (topic === topics.events(node)) hub.publish(topics.acks(node), JSON.stringify({ node, upToSeq: body.seq }), { qos: 1 });
    });
    await hub.subscribeAsync([topics.events(node), topics.results(node), topics.status(node)], { qos: 1 });
    const desired = { node, revision: 'rev-1', ts: new Date().toISOString(), services: { z2m: { containers: [container] }, ha: { monitor: false } } };
    await hub.publishAsync(topics.desired(node), JSON.stringify(desired), { qos: 1, retain: true });

    const config = parseAgentConfig({}, { node, 'mqtt-url': mosquitto.url, 'docker-socket': dockerd.socketPath, 'state-dir': path.join(tmp.path, 'agent') });
    agent = await runAgent(config, createLogger('agent', { level: process.env.LOG_LEVEL ?? 'warn' }));
  }, 180_000);

  afterAll(async () => {
    await agent?.stop();
    await hub?.endAsync().catch(() => undefined);
    await mosquitto?.stop();
    await dockerd?.stop();
    await tmp?.cleanup();
  }, 60_000);

  it('publishes a retained online birth and the service healthy from the retained desired state', async () => {
    const healthy = await waitFor(() => events().find((e) => e.type === 'service_healthy' && e.service === 'z2m'), {
      timeoutMs: 15_000,
      what: 'service_healthy z2m',
    });
    expect(healthy).toMatchObject({ node, id: `${node}-${healthy.seq}`, data: { containers: [{ name: container, state: 'running' }] } });
    expect(received.find((m) => m.topic === topics.status(node))?.body).toMatchObject({ node, state: 'online', session: 1 });
    expect(events().some((e) => e.service === 'ha')).toBe(false);
    await waitFor(() => agent!.snapshot()!.outbox.entries === 0, { what: 'outbox drained by acks' });
  });

  it('notices a docker stop within one second: service_unhealthy containers_not_running', async () => {
    const before = Date.now();
    await docker.getContainer(container).stop({ t: 0 });
    const stopped = Date.now();
    const unhealthy = await waitFor(() => events().find((e) => e.type === 'service_unhealthy' && e.at >= before), {
      timeoutMs: 5_000,
      what: 'service_unhealthy after docker stop',
    });
    expect(unhealthy).toMatchObject({ service: 'z2m', data: { reason: 'containers_not_running', detail: `${container}: exited` } });
    console.log(`service_unhealthy ${unhealthy.at - stopped} ms after docker stop returned (${unhealthy.at - before} ms after it was called)`);
    expect(unhealthy.at - stopped).toBeLessThan(1000);
  });

  let startedAt = '';
  const cmd = command();
  it('runs a container_restart command: result completed, container running again', async () => {
    await hub.publishAsync(topics.commands(node), JSON.stringify(cmd), { qos: 1 });
    const result = await waitFor(() => results().find((r) => r.actionId === cmd.actionId), { timeoutMs: 30_000, what: 'command result' });
    expect(result).toMatchObject({ node, status: 'completed', output: `restarted ${container}` });
    expect(result.replayed).toBeUndefined();
    const info = await docker.getContainer(container).inspect();
    expect(info.State.Running).toBe(true);
    startedAt = info.State.StartedAt;
    await waitFor(() => events().find((e, i, all) => e.type === 'service_healthy' && all.slice(0, i).some((p) => p.type === 'service_unhealthy')), {
      timeoutMs: 5_000,
      what: 'service_healthy after the restart',
    });
  });

  it('answers the same command again from its journal without restarting the container twice', async () => {
    const first = results().find((r) => r.actionId === cmd.actionId);
    await hub.publishAsync(topics.commands(node), JSON.stringify(cmd), { qos: 1 });
    const replay = await waitFor(() => results().find((r) => r.actionId === cmd.actionId && r.replayed === true), {
      timeoutMs: 10_000,
      what: 'replayed result',
    });
    expect(replay).toEqual({ ...first, replayed: true });
    const info = await docker.getContainer(container).inspect();
    expect(info.State.StartedAt).toBe(startedAt);
    expect(agent!.snapshot()!.commandsExecuted).toBe(1);
  });
});
